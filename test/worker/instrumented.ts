/**
 * Bindings that count and record what goes through them, for the tests that hold Segue to Cloudflare's
 * per-invocation limits (D1 queries, KV operations) and to per-contact query plans. Every D1 binding is
 * counted: the control database and each data shard.
 */
import { CONTROL, shardNames } from '../../worker/data/shards'

/** A statement D1 ran: its SQL, the values bound to it, and the binding of the database that ran it. */
export interface RanStatement {
  sql: string
  args: unknown[]
  database: string
}

/** What an invocation did through its bindings. */
export class Usage {
  /** D1 calls: each `first`/`all`/`run`/`raw` of a statement and each `batch`, as Cloudflare counts queries. */
  d1Calls = 0
  /** The same calls by D1 binding (`DB`, `SHARD_1`...). */
  readonly d1CallsBy: Record<string, number> = {}
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
    for (const name of Object.keys(this.d1CallsBy)) delete this.d1CallsBy[name]
    this.statements.length = 0
    this.kvReads = 0
    this.kvWrites = 0
    this.queueSends = 0
  }
}

const RUNS = new Set(['first', 'all', 'run', 'raw'])

/** A D1 binding (named `database`) that counts calls and records every statement run through it. */
export function recordingD1(db: D1Database, usage: Usage, database: string): D1Database {
  const call = () => {
    usage.d1Calls++
    usage.d1CallsBy[database] = (usage.d1CallsBy[database] ?? 0) + 1
  }
  // The statement behind each wrapper, and what it was bound with, so a batch can run the real ones.
  const behind = new WeakMap<object, { statement: D1PreparedStatement; ran: RanStatement }>()
  const wrap = (statement: D1PreparedStatement, ran: RanStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrap(target.bind(...args), { sql: ran.sql, args, database })
        const value = Reflect.get(target, prop, target)
        if (typeof value !== 'function') return value
        if (!RUNS.has(String(prop))) return value.bind(target)
        return (...args: unknown[]) => {
          call()
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
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql), { sql, args: [], database })
      if (prop === 'batch') {
        return (statements: D1PreparedStatement[]) => {
          call()
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
          call()
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

/** Every D1 binding of `env`: the control database, then the data shards. */
export function d1Bindings(env: Env): string[] {
  return [CONTROL, ...shardNames(env)]
}

/** `env` with its D1 (the control database and every shard), KV and queue bindings counted into `usage`. */
export function instrumented(env: Env, usage: Usage): Env {
  const d1 = Object.fromEntries(d1Bindings(env).map((name) => [name, recordingD1((env as unknown as Record<string, D1Database>)[name], usage, name)]))
  return { ...env, ...d1, KV: countingKv(env.KV, usage), EVENTS: countingQueue(env.EVENTS, usage) }
}
