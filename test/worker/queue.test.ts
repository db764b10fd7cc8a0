/**
 * The queue under faults: no message blocks another, nothing is acknowledged before it is done, what
 * cannot be written is kept as a dead letter and can be replayed, counters add up exactly once, and the
 * edge keeps answering with D1 unreachable.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { type QueueMessage, type VisitMessage } from '../../worker/background/messages'
import { signIdentity } from '../../worker/visits/identity'
import { Edge, type EventsAnswer, ORIGIN, eid, faultyD1, faultyKv, pageVisit, contentIds } from './edge-harness'
import { dataOf, rowsOf } from './fixtures'

const edge = new Edge()
const SITE = 'queued'
const KEY = 'pk_queued_test'
let secret: string

type Json = Record<string, any>
const idOf = (a: EventsAnswer) => edge.contactOf(SITE, a)
/** D1 unreachable: the control database and every shard. */
const down = faultyD1(env, () => true)
const CONSTRAINT = 'D1_ERROR: UNIQUE constraint failed: contacts.site_id, contacts.email: SQLITE_CONSTRAINT'

async function scalar(db: D1Database, sql: string, ...binds: unknown[]): Promise<number> {
  return (await db.prepare(sql).bind(...binds).first<{ n: number }>())!.n
}
/** The shard that holds a contact of the site, where the Worker reads and writes it. */
const shardOf = async (contactId: string) => (await dataOf(SITE)).of(contactId)
const eventCount = async (contactId: string) => scalar(await shardOf(contactId), 'SELECT count(*) AS n FROM events WHERE site_id = ?1 AND contact_id = ?2', SITE, contactId)
/** Runs of Album of the week's once-a-day node (its Is in Segment) for a contact. */
const runsOf = async (contactId: string) => scalar(await shardOf(contactId), "SELECT coalesce(sum(runs), 0) AS n FROM workflow_counters WHERE site_id = ?1 AND contact_id = ?2 AND workflow_id = 'wf_album_of_the_week' AND node_id = 'segment'", SITE, contactId)

/** Flushes until the queue is empty (messages retried go back on it), at most `rounds` times. */
async function drain(rounds = 20, envOverride?: Partial<Env>) {
  for (let i = 0; i < rounds && edge.queue.length > 0; i++) await edge.flush(envOverride)
  expect(edge.queue).toHaveLength(0)
}

beforeAll(async () => {
  secret = await edge.seedDemo(SITE, KEY)
})

describe('a message that cannot be written', () => {
  it('no longer exists for an anonymous identify with another contact\'s external id: it is a claim, and the visits are written', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'crm-8001', externalId: 'ext-8001' })
    const answer = await edge.events({ site: KEY, events: [{ id: eid(), type: 'identify', externalId: 'ext-8001' }, pageVisit(), { id: eid(), type: 'purchase', amount: 20 }] })
    expect(await edge.flush()).toEqual({ acked: 2, retried: 0 })
    const id = await idOf(answer)
    expect(await eventCount(id)).toBe(3)
    expect((await edge.admin<Json>('GET', `/sites/${SITE}/contacts/${id}`)).body).toMatchObject({ externalId: null, claimedExternalId: 'ext-8001' })
  })

  it('is kept as a dead letter with its reason, while the other visits of its batch are written', async () => {
    await drain()
    const good = await edge.events({ site: KEY, events: [pageVisit()] })
    const poison = { ...(structuredClone(edge.queue[edge.queue.length - 1]) as VisitMessage), id: 'm-poison', contactId: 'c_poison', v: undefined, createdAt: undefined } as unknown as QueueMessage
    edge.queue.push(poison)
    expect(await edge.flush()).toEqual({ acked: 2, retried: 0 })
    expect(await eventCount(await idOf(good))).toBe(1)
    const letters = await edge.admin<Json>('GET', `/sites/${SITE}/dead-letters`)
    expect(letters.body.items).toMatchObject([{ contactId: 'c_poison', outcome: 'held', reason: expect.stringMatching(/undefined/i), message: { id: 'm-poison' } }])
  })

  it('is written without what D1 refuses for good, and what was dropped is recorded', async () => {
    await drain()
    const signed = { id: eid(), type: 'identify', email: 'refused@example.com', signature: await signIdentity(secret, { kind: 'email', value: 'refused@example.com' }, Date.now()) }
    const answer = await edge.events({ site: KEY, events: [signed, pageVisit()] })
    // D1 refuses the transactions that set the email (the batch, then the visit alone), as a constraint
    // another writer won would; the visit without its identity goes in.
    let batches = 0
    const refusing = faultyD1(env, ({ method }) => method === 'batch' && ++batches <= 2, CONSTRAINT)
    expect(await edge.flush(refusing)).toEqual({ acked: 1, retried: 0 })
    const id = await idOf(answer)
    expect(await eventCount(id)).toBe(2)
    expect((await edge.admin<Json>('GET', `/sites/${SITE}/contacts/${id}`)).body).toMatchObject({ email: null, claimedEmail: 'refused@example.com' })
    const letters = await edge.admin<Json>('GET', `/sites/${SITE}/dead-letters`)
    expect(letters.body.items[0]).toMatchObject({ contactId: id, outcome: 'partly written', reason: expect.stringContaining('email refused@example.com kept as an unverified claim') })
    expect((await edge.admin('POST', `/sites/${SITE}/dead-letters/${letters.body.items[0].id}/replay`)).status).toBe(409)
    expect((await edge.admin('DELETE', `/sites/${SITE}/dead-letters/${letters.body.items[0].id}`)).status).toBe(204)
  })

  it('is retried, not held, when D1 falters while it is written without its identity', async () => {
    await drain()
    const signed = { id: eid(), type: 'identify', email: 'flaky@example.com', signature: await signIdentity(secret, { kind: 'email', value: 'flaky@example.com' }, Date.now()) }
    const answer = await edge.events({ site: KEY, events: [signed, pageVisit()] })
    // D1 refuses the identity for good, then falters while the visit is written without it.
    let batches = 0
    const failing = faultyD1(env, ({ method }) => method === 'batch' && (++batches <= 2 ? CONSTRAINT : batches === 3))
    expect(await edge.flush(failing)).toEqual({ acked: 0, retried: 1 })
    const id = await idOf(answer)
    expect((await edge.admin<Json>('GET', `/sites/${SITE}/dead-letters`)).body.items.filter((l: Json) => l.contactId === id)).toEqual([])
    await drain()
    expect(await eventCount(id)).toBe(2)
  })

  it('can be replayed once its cause is fixed, and is then written', async () => {
    await drain()
    const answer = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/replayed`)] })
    const refusing = faultyD1(env, ({ method }) => method === 'batch', 'D1_ERROR: CHECK constraint failed: SQLITE_CONSTRAINT')
    expect(await edge.flush(refusing)).toEqual({ acked: 1, retried: 0 })
    const id = await idOf(answer)
    expect(await eventCount(id)).toBe(0)
    const letter = (await edge.admin<Json>('GET', `/sites/${SITE}/dead-letters`)).body.items.find((l: Json) => l.contactId === id)
    expect(letter).toMatchObject({ outcome: 'held' })
    expect((await edge.admin('POST', `/sites/${SITE}/dead-letters/${letter.id}/replay`)).status).toBe(204)
    await drain()
    expect(await eventCount(id)).toBe(1)
    expect((await edge.admin<Json>('GET', `/sites/${SITE}/dead-letters`)).body.items.map((l: Json) => l.id)).not.toContain(letter.id)
  })

  it('that Cloudflare gave up on arrives in the dead-letter queue and is kept with its last error', async () => {
    const { createExecutionContext, createMessageBatch, getQueueResult } = await import('cloudflare:test')
    const { keepDeadLetters } = await import('../../worker/background/consumer')
    const body = { ...(structuredClone(edge.queue[0] ?? { kind: 'visit' }) as object), kind: 'visit', id: 'm-given-up', siteId: SITE, contactId: 'c_given_up', v: 1, activities: [], fields: {}, statics: [], counters: [] }
    await env.KV.put('queue-error:m-given-up', 'D1 is unavailable')
    const batch = createMessageBatch<QueueMessage>('segue-events-dead', [{ id: 'd1', timestamp: new Date(), attempts: 100, body: body as QueueMessage }])
    await keepDeadLetters(batch, env)
    expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual(['d1'])
    const letters = (await edge.admin<Json>('GET', `/sites/${SITE}/dead-letters`)).body.items
    expect(letters.find((l: Json) => l.contactId === 'c_given_up')).toMatchObject({ outcome: 'held', reason: 'Not written after 100 deliveries; the last error: D1 is unavailable' })
  })
})

describe('dead letters and erasure', () => {
  it('go with the contact they name, as everything else kept about it', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'crm-9101', email: 'lettered@example.com' })
    await env.DB.prepare("INSERT INTO dead_letters (id, site_id, kind, contact_id, body, reason, outcome, created_at) VALUES ('dl_9101', ?1, 'visit', 'crm-9101', '{\"fields\":{\"email\":\"lettered@example.com\"}}', 'x', 'held', 1)").bind(SITE).run()
    expect((await edge.admin('DELETE', `/sites/${SITE}/contacts/crm-9101`)).status).toBe(204)
    expect(await scalar(env.DB, "SELECT count(*) AS n FROM dead_letters WHERE site_id = ?1 AND id = 'dl_9101'", SITE)).toBe(0)
    await drain()
  })
})

describe('nothing is acknowledged before it is done', () => {
  it('retries a visit whose snapshot could not be rebuilt, and writes it only once', async () => {
    await drain()
    const answer = await edge.events({ site: KEY, events: [pageVisit(), pageVisit(`${ORIGIN}/b`)] })
    const id = await idOf(answer)
    const noKv = faultyKv(env.KV, () => true)
    expect(await edge.flush({ KV: noKv })).toEqual({ acked: 0, retried: 1 })
    expect(await eventCount(id)).toBe(2)
    expect(await edge.flush()).toEqual({ acked: 1, retried: 0 })
    expect(await eventCount(id)).toBe(2)
    expect(await env.KV.get(`contact:${SITE}:${id}`, 'json')).toMatchObject({ id })
  })

  it('retries an admin change\'s snapshot rebuild until D1 answers', async () => {
    await drain()
    await edge.admin('PATCH', `/sites/${SITE}/contacts/demo-ana`, { fields: { city: 'Sevilla' } })
    const failingReads = faultyD1(env, ({ method }) => method !== 'batch')
    const first = await edge.flush(failingReads)
    expect(first.retried).toBeGreaterThan(0)
    await drain()
    expect(await env.KV.get(`contact:${SITE}:demo-ana`, 'json')).toMatchObject({ f: { city: 'Sevilla' } })
  })
})

describe('a message delivered again after its D1 part was written', () => {
  it('still points the merged id at the contact it joined', async () => {
    await drain()
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'crm-9001', email: 'nine@example.com' })
    const anon = await edge.events({ site: KEY, events: [pageVisit()] })
    const anonId = await idOf(anon)
    await drain()
    const signature = await signIdentity(secret, { kind: 'email', value: 'nine@example.com' }, Date.now())
    await edge.events({ site: KEY, contact: anon.contact, state: anon.state, events: [{ id: eid(), type: 'identify', email: 'nine@example.com', signature }] })
    // D1 commits; then every KV write fails: the redirect and the snapshot wait for the retry.
    expect(await edge.flush({ KV: faultyKv(env.KV, () => true) })).toEqual({ acked: 0, retried: 1 })
    expect(await env.KV.get(`contact:${SITE}:${anonId}`, 'json')).toMatchObject({ id: anonId })
    await drain()
    expect(await env.KV.get(`contact:${SITE}:${anonId}`, 'json')).toEqual({ redirect: 'crm-9001' })
  })

  it('from before visits carried ids counts its counters as totals, not as runs to add', async () => {
    await drain()
    const answer = await edge.events({ site: KEY, events: [pageVisit()] })
    const { id: _id, ...legacy } = structuredClone(edge.queue.pop()) as VisitMessage
    legacy.counters = legacy.counters.map(([key, , at]) => [key, 2, at])
    edge.queue.push(legacy as QueueMessage, structuredClone(legacy) as QueueMessage)
    await drain()
    expect(await runsOf(await idOf(answer))).toBe(2)
  })

  it('that Cloudflare gave up on only for its KV part is recorded as written in part, and cannot be replayed', async () => {
    await drain()
    const answer = await edge.events({ site: KEY, events: [pageVisit()] })
    const body = structuredClone(edge.queue[edge.queue.length - 1]) as VisitMessage
    await drain()
    const { createMessageBatch } = await import('cloudflare:test')
    const { keepDeadLetters } = await import('../../worker/background/consumer')
    await keepDeadLetters(createMessageBatch<QueueMessage>('segue-events-dead', [{ id: 'd2', timestamp: new Date(), attempts: 100, body }]), env)
    const id = await idOf(answer)
    const letter = (await edge.admin<Json>('GET', `/sites/${SITE}/dead-letters`)).body.items.find((l: Json) => l.contactId === id)
    expect(letter).toMatchObject({ outcome: 'partly written', reason: expect.stringContaining('Written to D1') })
    expect((await edge.admin('POST', `/sites/${SITE}/dead-letters/${letter.id}/replay`)).status).toBe(409)
  })
})

describe('visits delivered out of order', () => {
  it('add an older visit\'s events but do not set its fields back over a newer one\'s', async () => {
    await drain()
    const first = await edge.events({ site: KEY, events: [{ id: eid(), type: 'identify', fields: { birthDate: '1970-01-01' } }] })
    const second = await edge.events({ site: KEY, contact: first.contact, state: first.state, events: [{ id: eid(), type: 'identify', fields: { birthDate: '1990-01-01' } }, pageVisit()] })
    const [older, newer] = edge.queue.splice(-2)
    edge.queue.push(newer)
    await drain()
    edge.queue.push(older)
    await drain()
    const id = await idOf(second)
    expect((await edge.admin<Json>('GET', `/sites/${SITE}/contacts/${id}`)).body.fields).toMatchObject({ birthDate: '1990-01-01' })
    expect(await eventCount(id)).toBe(3)
  })
})

describe('limitation counters', () => {
  it('add up across concurrent visits, so the cap holds once the queue catches up', async () => {
    await drain()
    const first = await edge.events({ site: KEY, events: [{ id: eid(), type: 'identify', fields: { birthDate: '1990-01-01' } }] })
    await drain()
    // Five requests at once from the same browser all decide on the state it holds: each may show.
    const answers = await Promise.all(Array.from({ length: 5 }, () => edge.events({ site: KEY, contact: first.contact, state: first.state, events: [pageVisit()] })))
    const shown = answers.filter((a) => contentIds(a).includes('rock')).length
    expect(shown).toBe(5)
    await drain()
    const id = await idOf(first)
    expect(await runsOf(id)).toBe(shown)
    expect(contentIds(await edge.events({ site: KEY, contact: first.contact, events: [pageVisit()] }))).toEqual([])
  })

  it('count a message delivered twice once', async () => {
    await drain()
    const answer = await edge.events({ site: KEY, events: [pageVisit()] })
    edge.queue.push(structuredClone(edge.queue[edge.queue.length - 1]))
    await drain()
    const id = await idOf(answer)
    expect(await runsOf(id)).toBe(1)
    expect(await eventCount(id)).toBe(1)
  })
})

describe('with D1 unreachable', () => {
  it('the edge still answers a first visit, a returning contact, a signed identify and a contact KV lost', async () => {
    await drain()
    const known = await edge.events({ site: KEY, events: [pageVisit()] })
    await drain()
    const first = await edge.events({ site: KEY, events: [pageVisit()] }, down)
    expect(contentIds(first)).toEqual(['jazz'])
    expect((await edge.events({ site: KEY, contact: known.contact, events: [pageVisit()] }, down)).contact).toBe(known.contact)
    const signature = await signIdentity(secret, { kind: 'email', value: 'bob@example.com' }, Date.now())
    const signedIn = await edge.events({ site: KEY, events: [{ id: eid(), type: 'identify', email: 'bob@example.com', signature }, pageVisit()] }, down)
    await env.KV.delete(`contact:${SITE}:${await idOf(known)}`)
    expect((await edge.events({ site: KEY, contact: known.contact, events: [pageVisit()] }, down)).contact).toBe(known.contact)
    // D1 comes back: the consumer settles the identify (the anonymous visitor was Bob) and writes it all.
    await drain()
    expect(await eventCount(await idOf(signedIn))).toBe(0)
    const alias = await idOf(signedIn)
    expect(await scalar(await shardOf(alias), "SELECT count(*) AS n FROM contact_aliases WHERE site_id = ?1 AND alias_id = ?2 AND contact_id = 'demo-bob'", SITE, alias)).toBe(1)
    expect(await eventCount(await idOf(known))).toBe(3)
  })

  it('a site KV has not seen yet is answered 503 with Retry-After, writing nothing', async () => {
    await edge.admin('POST', '/sites', { id: 'unseen', key: 'pk_unseen_site', name: 'Unseen', allowedOrigins: [ORIGIN] })
    await env.KV.delete('site:pk_unseen_site')
    const { clearConfigCache } = await import('../../worker/visits/site-cache')
    clearConfigCache()
    const res = await edge.send({ site: 'pk_unseen_site', events: [pageVisit()] }, { envOverride: down })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('30')
    expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } })
  })
})

describe('fault injection', () => {
  it('loses and doubles no event across consumer failures at any D1 or KV call', async () => {
    await drain()
    const answers: EventsAnswer[] = []
    const sent = new Map<string, number>()
    for (let visitor = 0; visitor < 12; visitor++) {
      let answer = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/v${visitor}`)] })
      for (let request = 0; request < 2; request++) {
        answer = await edge.events({ site: KEY, contact: answer.contact, state: answer.state, events: [pageVisit(`${ORIGIN}/v${visitor}/${request}`), { id: eid(), type: 'purchase', amount: 3 }] })
      }
      answers.push(answer)
      sent.set(await idOf(answer), 5)
    }
    // Each round fails a different call: the n-th D1 call, or the n-th KV write, of that consumer run.
    let retried = 0
    for (let round = 1; edge.queue.length > 0 && round < 60; round++) {
      const failAt = (round * 7) % 23
      const fault = round % 2 === 0 ? faultyD1(env, ({ n }) => n === failAt) : { KV: faultyKv(env.KV, ({ n }) => n === failAt) }
      retried += (await edge.flush(fault)).retried
    }
    expect(retried).toBeGreaterThan(0)
    await drain()
    for (const [id, expected] of sent) expect(await eventCount(id), id).toBe(expected)
    // Across every shard of the site: an event written on two shards is doubled too.
    const events = (await rowsOf<{ contact_id: string; id: string }>(SITE, 'SELECT contact_id, id FROM events WHERE site_id = ?1', SITE)).map((e) => `${e.contact_id}\u0000${e.id}`)
    expect(events.length - new Set(events).size).toBe(0)
    for (const answer of answers) expect(await runsOf(await idOf(answer))).toBe(1)
  })
})
