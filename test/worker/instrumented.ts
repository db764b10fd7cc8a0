/**
 * Bindings that count and record what goes through them, for the tests that hold Segue to Cloudflare's
 * per-invocation limits (D1 queries, KV operations) and to per-contact query plans.
 */

/** A statement D1 ran: its SQL and the values bound to it. */
export interface RanStatement {
  sql: string
  args: unknown[]
}

/** What an invocation did through its bindings. */
export class Usage {
  /** D1 calls: each `first`/`all`/`run`/`raw` of a statement and each `batch`, as Cloudflare counts queries. */
  d1Calls = 0
  /** Statements run, those inside batches counted one by one. */
  readonly statements: RanStatement[] = []
  kvReads = 0
  kvWrites = 0
  queueSends = 0

  get kvOps(): number {
    return this.kvReads + this.kvWrites
  }

  reset(): void {
    this.d1Calls = 0
    this.statements.length = 0
    this.kvReads = 0
    this.kvWrites = 0
    this.queueSends = 0
  }
}

const RUNS = new Set(['first', 'all', 'run', 'raw'])

/** A D1 binding that counts calls and records every statement run through it. */
export function recordingD1(db: D1Database, usage: Usage): D1Database {
  // The statement behind each wrapper, and what it was bound with, so a batch can run the real ones.
  const behind = new WeakMap<object, { statement: D1PreparedStatement; ran: RanStatement }>()
  const wrap = (statement: D1PreparedStatement, ran: RanStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrap(target.bind(...args), { sql: ran.sql, args })
        const value = Reflect.get(target, prop, target)
        if (typeof value !== 'function') return value
        if (!RUNS.has(String(prop))) return value.bind(target)
        return (...args: unknown[]) => {
          usage.d1Calls++
          usage.statements.push(ran)
          return value.apply(target, args)
        }
      },
    })
    behind.set(proxy, { statement, ran })
    return proxy
  }
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), { sql, args: [] })
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          usage.d1Calls++
          const real = statements.map((s) => {
            const known = behind.get(s)
            if (known) usage.statements.push(known.ran)
            return known?.statement ?? s
          })
          return target.batch(real)
        }
      }
      if (prop === 'exec') {
        return (sql: string) => {
          usage.d1Calls++
          return target.exec(sql)
        }
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** A KV binding that counts reads and writes. */
export function countingKv(kv: KVNamespace, usage: Usage): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      const name = String(prop)
      return (...args: unknown[]) => {
        if (name === 'get' || name === 'getWithMetadata' || name === 'list') usage.kvReads++
        else if (name === 'put' || name === 'delete') usage.kvWrites++
        return value.apply(target, args)
      }
    },
  })
}

/** A queue binding that counts sends (a batch is one). */
export function countingQueue(queue: Queue, usage: Usage): Queue {
  return new Proxy(queue, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (prop === 'send' || prop === 'sendBatch') usage.queueSends++
        return value.apply(target, args)
      }
    },
  })
}

/** `env` with its D1, KV and queue bindings counted into `usage`. */
export function instrumented(env: Env, usage: Usage): Env {
  return { ...env, DB: recordingD1(env.DB, usage), KV: countingKv(env.KV, usage), EVENTS: countingQueue(env.EVENTS, usage) }
}
