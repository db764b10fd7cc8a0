/**
 * Drives the Worker as the edge runs it, with the queue in the test's hands: messages the Worker sends
 * are kept until `flush()` hands them to the consumer, so a test decides when D1 and KV catch up.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { app } from '../../worker/app'
import { openBrowserId } from '../../worker/visits/browser-id'
import { consume } from '../../worker/background/consumer'
import { type QueueMessage } from '../../worker/background/messages'
import { ADMIN_TOKEN } from './fixtures'
import { d1Bindings } from './instrumented'
import { CONTROL, shardNames } from '../../worker/data/shards'
import demo from '../../scripts/demo-data.json'

export const ORIGIN = 'https://shop.example'

/** The queue consumer's `max_batch_size` in wrangler.toml. */
export const MAX_BATCH_SIZE = 100

/** Rate limiters that let everything through: tests send far more from one "client" than a visitor would. */
const allowAll = { limit: async () => ({ success: true }) } as RateLimit
export const unlimited: Partial<Env> = {
  RATE_VISITOR_STRICT: allowAll,
  RATE_VISITOR: allowAll,
  RATE_VISITOR_RELAXED: allowAll,
  RATE_SITE_STRICT: allowAll,
  RATE_SITE: allowAll,
  RATE_SITE_RELAXED: allowAll,
}

export interface EventsAnswer {
  contact: string
  state?: string
  content: Array<{ id: string; [k: string]: unknown }>
}

/**
 * The content an answer carries, by id, with the demo's two rock popups (the variants of its A/B test,
 * which one depending on the contact) both named `rock`.
 */
export const contentIds = (a: { content: Array<{ id: string }> }): string[] => a.content.map((c) => (c.id === 'rock-bold' ? 'rock' : c.id))

export class Edge {
  readonly queue: QueueMessage[] = []
  env: Env

  constructor(overrides: Partial<Env> = {}) {
    const queue = this.queue
    // Held to Cloudflare's limits, so that code which would fail against a real queue fails here too.
    const bytes = (body: QueueMessage) => new TextEncoder().encode(JSON.stringify(body)).length
    const events = {
      send: async (body: QueueMessage) => {
        if (bytes(body) > 128 * 1024) throw new Error('Queue.send: a message is at most 128 KB')
        queue.push(body)
      },
      sendBatch: async (messages: Iterable<{ body: QueueMessage }>) => {
        const list = [...messages]
        if (list.length > 100) throw new Error(`Queue.sendBatch: at most 100 messages a send, not ${list.length}`)
        if (list.reduce((n, m) => n + bytes(m.body), 0) > 256 * 1024) throw new Error('Queue.sendBatch: at most 256 KB a send')
        for (const m of list) queue.push(m.body)
      },
    } as unknown as Queue
    this.env = { ...env, EVENTS: events, ...unlimited, ...overrides }
  }

  async fetch(path: string, init: RequestInit = {}, envOverride?: Partial<Env>): Promise<Response> {
    const ctx = createExecutionContext()
    const res = await app.fetch(new Request(`http://segue.test${path}`, init), { ...this.env, ...envOverride }, ctx)
    await waitOnExecutionContext(ctx)
    return res
  }

  async admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.fetch(`/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, body: res.status === 204 ? (null as T) : await res.json<T>() }
  }

  /** POSTs a batch as the SDK does: a text/plain body from the shop's origin. */
  async send(body: Record<string, unknown>, opts: { origin?: string | null; envOverride?: Partial<Env> } = {}): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'text/plain;charset=UTF-8' }
    if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN
    return this.fetch('/v1/events', { method: 'POST', headers, body: JSON.stringify(body) }, opts.envOverride)
  }

  /** Signs in to the console with the admin token, from the client address `ip`; returns the session cookie. */
  async consoleCookie(ip = '192.0.2.200'): Promise<string> {
    const res = await this.fetch('/admin/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': ip },
      body: new URLSearchParams({ token: ADMIN_TOKEN, next: '/admin' }).toString(),
    })
    if (res.status !== 303) throw new Error(`console sign-in answered ${res.status}`)
    return res.headers.get('set-cookie')!.split(';')[0]
  }

  /** A batch that must be accepted; returns the answer. */
  async events(body: Record<string, unknown>, envOverride?: Partial<Env>): Promise<EventsAnswer> {
    const res = await this.send(body, { envOverride })
    if (res.status !== 200) throw new Error(`POST /v1/events answered ${res.status}: ${await res.text()}`)
    return res.json<EventsAnswer>()
  }

  /** The contact (the admin API's id) a browser id of this site names; throws when it names none. */
  async contactOf(siteId: string, answer: { contact: string }): Promise<string> {
    const opened = await openBrowserId(this.env.STATE_SECRET, siteId, answer.contact)
    if (!opened) throw new Error(`${answer.contact} is not a browser id of site ${siteId}`)
    return opened.contactId
  }

  /**
   * Hands the queued messages to the consumer, at most `max_batch_size` (wrangler.toml) of them, as
   * Cloudflare does; messages it retries go back on the queue.
   */
  async flush(envOverride?: Partial<Env>): Promise<{ acked: number; retried: number }> {
    const bodies = this.queue.splice(0, MAX_BATCH_SIZE)
    if (bodies.length === 0) return { acked: 0, retried: 0 }
    const batch = createMessageBatch<QueueMessage>('segue-events', bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })))
    const ctx = createExecutionContext()
    await consume(batch, { ...this.env, ...envOverride })
    const result = await getQueueResult(batch, ctx)
    for (const r of result.retryMessages) this.queue.push(bodies[Number(r.msgId.slice(1))])
    return { acked: result.explicitAcks.length, retried: result.retryMessages.length }
  }

  /** Seeds the demo of `npm run dev` on a site of its own, reachable from ORIGIN; returns its identity secret. */
  async seedDemo(siteId: string, key: string): Promise<string> {
    const ok = (r: { status: number; body: unknown }) => {
      if (r.status >= 300) throw new Error(`seeding failed: ${r.status} ${JSON.stringify(r.body)}`)
    }
    const site = await this.admin('POST', '/sites', { ...demo.site, id: siteId, key, allowedOrigins: [ORIGIN] })
    ok(site)
    const scoped = `/sites/${siteId}`
    for (const s of demo.segments) ok(await this.admin('POST', `${scoped}/segments`, s))
    for (const c of demo.content) ok(await this.admin('POST', `${scoped}/content`, c))
    for (const w of demo.workflows) ok(await this.admin('POST', `${scoped}/workflows`, w))
    ok(await this.admin('POST', `${scoped}/contacts/batch`, { contacts: demo.contacts }))
    await this.flush()
    return site.body.identitySecret.value
  }
}

let eventSeq = 0
/** A fresh event id, as the SDK makes them. */
export const eid = () => `ev-${Date.now().toString(36)}-${++eventSeq}`
export const pageVisit = (url = `${ORIGIN}/`) => ({ id: eid(), type: 'page_visit', url, title: 'Shop' })

/** A D1 binding that records every call made through it. */
export function countingDb(db: D1Database): { db: D1Database; calls: string[] } {
  const calls: string[] = []
  const proxy = new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.push(String(prop))
        return value.apply(target, args)
      }
    },
  })
  return { db: proxy, calls }
}

/** Every D1 binding, the control database and each shard, recording the calls made through any of them. */
export function countingD1(): { bindings: Partial<Env>; calls: () => string[] } {
  const counted = [CONTROL, ...shardNames(env)].map((name) => ({ name, ...countingDb((env as unknown as Record<string, D1Database>)[name]) }))
  return {
    bindings: Object.fromEntries(counted.map((c) => [c.name, c.db])) as Partial<Env>,
    calls: () => counted.flatMap((c) => c.calls.map((call) => `${c.name}.${call}`)),
  }
}

/**
 * A KV binding that, for contact snapshots, keeps answering what it held when frozen (or nothing), as
 * production KV can for up to a minute after a write elsewhere. Writes still reach the real store.
 */
export function staleKv(kv: KVNamespace, frozen: Map<string, string | null>): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === 'get') {
        return async (key: string, type?: unknown) => {
          if (!key.startsWith('contact:')) return (target.get as Function).call(target, key, type)
          const value = frozen.has(key) ? frozen.get(key)! : null
          return value === null ? null : type === 'json' ? JSON.parse(value) : value
        }
      }
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/**
 * Which calls of a binding fail: the n-th call (from 1) of a method, what it is given, and which D1
 * binding it went to. A string fails the call with that error instead of the binding's own.
 */
export type FailWhen = (call: { n: number; method: string; args: unknown[]; database?: string }) => boolean | string

/** Calls counted across the bindings that share them, and the D1 binding a call goes to. */
interface FaultOptions {
  calls?: { n: number }
  database?: string
}

/**
 * A D1 binding whose calls fail when `when` says so: `batch`, and the run/all/first of a prepared
 * statement, as D1 failing mid-invocation would. Calls are counted across the binding's life (or across
 * every binding given the same `calls`).
 */
export function faultyDb(db: D1Database, when: FailWhen, error = 'D1 is unavailable', { calls = { n: 0 }, database }: FaultOptions = {}): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>()
  const check = (method: string, args: unknown[]) => {
    const fails = when({ n: ++calls.n, method, args, database })
    if (fails) throw new Error(fails === true ? error : fails)
  }
  const statement = (st: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(st, {
      get(target, prop) {
        const value = Reflect.get(target, prop)
        if (prop === 'bind') return (...a: unknown[]) => statement(value.apply(target, a))
        if (prop === 'run' || prop === 'all' || prop === 'first' || prop === 'raw') {
          return async (...a: unknown[]) => {
            check(String(prop), a)
            return value.apply(target, a)
          }
        }
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    real.set(proxy, st)
    return proxy
  }
  return new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (prop === 'prepare') return (sql: string) => statement(target.prepare(sql))
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          check('batch', [statements])
          return target.batch(statements.map((s) => real.get(s) ?? s))
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/**
 * Every D1 binding of `env` — the control database and each data shard — failing when `when` says so,
 * as overrides for an invocation's env: D1 faltering wherever a site's data lives. Calls are counted
 * across all of them, in the order the invocation makes them.
 */
export function faultyD1(env: Env, when: FailWhen, error = 'D1 is unavailable'): Partial<Env> {
  const calls = { n: 0 }
  const bindings = env as unknown as Record<string, D1Database>
  return Object.fromEntries(d1Bindings(env).map((name) => [name, faultyDb(bindings[name], when, error, { calls, database: name })])) as Partial<Env>
}

/** A KV binding whose writes (put, delete) fail when `when` says so. */
export function faultyKv(kv: KVNamespace, when: FailWhen): KVNamespace {
  let n = 0
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop)
      if (prop === 'put' || prop === 'delete') {
        return async (...args: unknown[]) => {
          if (when({ n: ++n, method: String(prop), args })) throw new Error('KV is unavailable')
          return (value as Function).apply(target, args)
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
