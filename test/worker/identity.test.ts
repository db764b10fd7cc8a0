/**
 * Identity a site can trust, tried as an attacker at the public endpoint would: with nothing but the
 * events endpoint, no Origin header, and what anyone may know (a customer's email, an id an admin chose).
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { issueBrowserId } from '../../worker/visits/browser-id'
import { type Snapshot } from '../../worker/visits/snapshot'
import { SIGNATURE_MAX_AGE_S, signIdentity } from '../../worker/visits/identity'
import { TOKEN_FRESH_MS, openState } from '../../worker/visits/token'
import { Edge, type EventsAnswer, ORIGIN, countingD1, eid, pageVisit, contentIds } from './edge-harness'
import { dataOf, rowsOf } from './fixtures'

const edge = new Edge()
const SITE = 'trust'
const KEY = 'pk_trust_test'
let secret: string

type Json = Record<string, any>
/** A request as curl sends it: no Origin header. */
const attack = async (body: Record<string, unknown>) => {
  const res = await edge.send({ site: KEY, ...body }, { origin: null })
  expect(res.status).toBe(200)
  return res.json<EventsAnswer>()
}
const identify = (extra: Record<string, unknown>) => ({ id: eid(), type: 'identify', ...extra })
const signed = async (email: string, at = Date.now(), key = secret) => identify({ email, signature: await signIdentity(key, { kind: 'email', value: email }, at) })
const contact = async (id: string) => edge.admin<Json>('GET', `/sites/${SITE}/contacts/${id}`)
const idOf = (a: EventsAnswer) => edge.contactOf(SITE, a)
const snapshotOf = async (a: EventsAnswer): Promise<Snapshot> => (await openState(env.STATE_SECRET, SITE, await idOf(a), a.state, Date.now()))!.snapshot

/** Rows of a table naming `id`, on whichever of the site's shards they are. */
async function count(table: string, column: string, id: string): Promise<number> {
  const rows = await rowsOf<{ n: number }>(SITE, `SELECT count(*) AS n FROM ${table} WHERE site_id = ?1 AND ${column} = ?2`, SITE, id)
  return rows.reduce((n, r) => n + r.n, 0)
}


beforeAll(async () => {
  secret = await edge.seedDemo(SITE, KEY)
  await edge.admin('POST', `/sites/${SITE}/contacts/batch`, {
    contacts: [
      { id: 'crm-1001', email: 'victim1@example.com', fields: { firstName: 'Vera', birthDate: '1990-05-05' } },
      { id: 'crm-1002', email: 'victim2@example.com', fields: { firstName: 'Wanda', birthDate: '1960-01-01' } },
    ],
  })
  await edge.flush()
})

describe('attack 1: an unsigned identify with a customer\'s email', () => {
  it('is kept as a claim on the visitor\'s own contact and answers as for an email nobody has', async () => {
    const { bindings, calls } = countingD1()
    const known = await edge.events({ site: KEY, events: [identify({ email: 'victim1@example.com' }), pageVisit()] }, bindings)
    expect(calls()).toEqual([])
    const unknown = await edge.events({ site: KEY, events: [identify({ email: 'nobody-at-all@example.com' }), pageVisit()] })

    expect(JSON.stringify(known)).not.toContain('crm-1001')
    expect(await idOf(known)).toMatch(/^c_/)
    // She was born in 1990 (rock); the stranger's anonymous contact gets what anyone unknown gets.
    expect(contentIds(known)).toEqual(['jazz'])
    expect(Object.keys(known)).toEqual(Object.keys(unknown))
    expect(known.contact.length).toBe(unknown.contact.length)
    expect(known.state!.length).toBe(unknown.state!.length)
    expect(known.content).toEqual(unknown.content)

    await edge.flush()
    const claimant = await contact(await idOf(known))
    expect(claimant.body).toMatchObject({ email: null, claimedEmail: 'victim1@example.com' })
    expect(await count('workflow_counters', 'contact_id', 'crm-1001')).toBe(0)
    expect(await count('events', 'contact_id', 'crm-1001')).toBe(0)
  })

  it('leaves the customer her once-a-day popup, which a signed visit of hers then gets', async () => {
    await attack({ events: [identify({ email: 'victim1@example.com' }), pageVisit()] })
    await edge.flush()
    const her = await edge.events({ site: KEY, events: [await signed('victim1@example.com'), pageVisit()] })
    expect(await idOf(her)).toBe('crm-1001')
    expect(contentIds(her)).toEqual(['rock'])
    await edge.flush()
  })
})

describe('attack 2: an admin-set id from a browser, then an identify with another customer\'s email', () => {
  it('merges nobody: both customers keep their email and fields', async () => {
    const answer = await attack({ contact: 'crm-1001', events: [identify({ email: 'victim2@example.com' }), pageVisit()] })
    expect(await idOf(answer)).not.toMatch(/^crm-/)
    await edge.flush()
    expect((await contact('crm-1001')).body).toMatchObject({ email: 'victim1@example.com', fields: { firstName: 'Vera' } })
    expect((await contact('crm-1002')).body).toMatchObject({ email: 'victim2@example.com', fields: { firstName: 'Wanda' } })
    expect(await count('contact_aliases', 'contact_id', 'crm-1002')).toBe(0)
  })
})

describe('attack 3: an unsigned identify that sets a customer\'s fields', () => {
  it('changes only the visitor\'s own contact; Ana stays a Millennial', async () => {
    const answer = await attack({ events: [identify({ email: 'ana@example.com', fields: { firstName: 'Hacked', birthDate: '1950-01-01' } }), pageVisit()] })
    await edge.flush()
    const ana = await contact('demo-ana')
    expect(ana.body).toMatchObject({ email: 'ana@example.com', fields: { firstName: 'Ana', birthDate: '1990-04-02' } })
    expect(ana.body.segments.map((s: Json) => s.id)).toContain('seg_millennials')
    const own = await contact(await idOf(answer))
    expect(own.body).toMatchObject({ email: null, claimedEmail: 'ana@example.com', fields: { firstName: 'Hacked', birthDate: '1950-01-01' } })
  })

  it('still lets the visitor\'s own fields decide for them, signed or not', async () => {
    const answer = await attack({ events: [identify({ email: 'someone@example.com', fields: { birthDate: '1990-01-01' } }), pageVisit()] })
    expect(contentIds(answer)).toEqual(['rock'])
  })
})

describe('attack 4: a guessed contact id', () => {
  it('is answered as a new contact and stores nothing on the customer', async () => {
    const answer = await attack({ contact: 'demo-chen', events: [pageVisit()] })
    expect(JSON.stringify(answer)).not.toContain('demo-chen')
    expect(await idOf(answer)).not.toBe('demo-chen')
    await edge.flush()
    expect(await count('events', 'contact_id', 'demo-chen')).toBe(0)
  })

  it('does not accept a browser id issued for another site', async () => {
    const other = new Edge()
    await other.seedDemo('trust_other', 'pk_trust_other')
    const there = await other.events({ site: 'pk_trust_other', events: [pageVisit()] })
    const here = await edge.events({ site: KEY, contact: there.contact, events: [pageVisit()] })
    expect(here.contact).not.toBe(there.contact)
  })
})

describe('attack 5: erasure', () => {
  async function eve() {
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'crm-2001', email: 'eve@example.com', fields: { firstName: 'Eve', birthDate: '1991-01-01' } })
    await edge.admin('PUT', `/sites/${SITE}/contacts/crm-2001/segments/seg_vip`)
    const anon = await edge.events({ site: KEY, events: [pageVisit()] })
    const anonId = await idOf(anon)
    await edge.flush()
    const browser = await edge.events({ site: KEY, contact: anon.contact, state: anon.state, events: [await signed('eve@example.com'), pageVisit(), { id: eid(), type: 'purchase', amount: 12 }] })
    await edge.flush()
    return { anonId, browser }
  }

  it('removes every trace in D1 and KV, and the old browser id and token get a new, empty contact', async () => {
    const { anonId, browser } = await eve()
    expect(await idOf(browser)).toBe('crm-2001')
    // One id merged into it (its alias row is kept on both shards when they differ).
    const aliases = await rowsOf<{ alias_id: string }>(SITE, 'SELECT alias_id FROM contact_aliases WHERE site_id = ?1 AND contact_id = ?2', SITE, 'crm-2001')
    expect(new Set(aliases.map((r) => r.alias_id))).toEqual(new Set([anonId]))
    expect(await count('workflow_counters', 'contact_id', 'crm-2001')).toBeGreaterThan(0)

    expect((await edge.admin('DELETE', `/sites/${SITE}/contacts/crm-2001`)).status).toBe(204)
    for (const [table, column] of [['contacts', 'id'], ['events', 'contact_id'], ['segment_members', 'contact_id'], ['workflow_counters', 'contact_id'], ['contact_aliases', 'contact_id'], ['contact_aliases', 'alias_id'], ['contact_identities', 'contact_id']]) {
      expect(await count(table, column, 'crm-2001'), `${table}.${column}`).toBe(0)
    }
    expect(await count('contact_aliases', 'alias_id', anonId)).toBe(0)
    for (const id of ['crm-2001', anonId]) expect(await env.KV.get(`contact:${SITE}:${id}`, 'json')).toHaveProperty('erased')

    // Once the token's last look at KV is TOKEN_FRESH_MS old; until then it is decided on alone (fresh-token.test.ts).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + TOKEN_FRESH_MS })
    const again = await edge.events({ site: KEY, contact: browser.contact, state: browser.state, events: [pageVisit()] }).finally(() => vi.useRealTimers())
    const fresh = await idOf(again)
    expect(fresh).not.toBe('crm-2001')
    const snap = await snapshotOf(again)
    expect(snap.f).not.toHaveProperty('firstName')
    expect(snap.f).not.toHaveProperty('email')
    expect(snap.m).toEqual({})
    // Her once-a-day popup was used at sign-in: a new contact's is not, so it shows (jazz: no birth date).
    expect(contentIds(again)).toEqual(['jazz'])
    // The id the browser held before it signed in led to her too: it leads to no one now.
    const beforeSignIn = await edge.events({ site: KEY, contact: await issueBrowserId(env.STATE_SECRET, SITE, anonId, Date.now()), events: [pageVisit()] })
    expect([anonId, 'crm-2001']).not.toContain(await idOf(beforeSignIn))
    await edge.flush()
    expect((await contact('crm-2001')).status).toBe(404)
    expect((await contact(fresh)).body).toMatchObject({ email: null, fields: {} })
  })

  it('does not let a visit still in the queue bring the contact back', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'crm-2002', email: 'mallory@example.com', fields: { firstName: 'Mal' } })
    await edge.flush()
    const browser = await edge.events({ site: KEY, events: [await signed('mallory@example.com'), pageVisit()] })
    expect(await idOf(browser)).toBe('crm-2002')
    expect(edge.queue.length).toBeGreaterThan(0)
    expect((await edge.admin('DELETE', `/sites/${SITE}/contacts/crm-2002`)).status).toBe(204)
    await edge.flush()
    expect((await contact('crm-2002')).status).toBe(404)
    expect(await count('events', 'contact_id', 'crm-2002')).toBe(0)
  })
})

describe('signed identity', () => {
  it('refuses a signature sent with both identifiers, or not in the signature format', async () => {
    const both = await edge.send({ site: KEY, events: [identify({ email: 'ana@example.com', externalId: 'x', signature: `${Math.floor(Date.now() / 1000)}.${'a'.repeat(64)}` })] })
    expect(both.status).toBe(400)
    expect(await both.json()).toMatchObject({ error: { code: 'invalid_event' } })
    const mangled = await edge.send({ site: KEY, events: [identify({ email: 'ana@example.com', signature: 'letmein' })] })
    expect(mangled.status).toBe(400)
    expect(edge.queue).toHaveLength(0)
  })

  it('treats an expired signature, or one made with another secret, as an unverified claim', async () => {
    const expired = await edge.events({ site: KEY, events: [await signed('ana@example.com', Date.now() - (SIGNATURE_MAX_AGE_S + 60) * 1000), pageVisit()] })
    const forged = await edge.events({ site: KEY, events: [await signed('ana@example.com', Date.now(), 'idsec_not_the_sites_secret'), pageVisit()] })
    for (const a of [expired, forged]) expect(await idOf(a)).not.toBe('demo-ana')
  })

  it('keeps exactly what the site signed: a signed email must be sent as it is kept', async () => {
    const typed = 'Chen@Example.com'
    const refused = await edge.send({ site: KEY, events: [identify({ email: typed, signature: await signIdentity(secret, { kind: 'email', value: typed }, Date.now()) }), pageVisit()] })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ error: { code: 'invalid_event', message: expect.stringContaining('chen@example.com') } })
    const answer = await edge.events({ site: KEY, events: [await signed('chen@example.com'), pageVisit()] })
    expect(await idOf(answer)).toBe('demo-chen')
    await edge.flush()
  })

  it('reaches a known contact by a signed external id', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'crm-3001', externalId: 'user-3001' })
    const signature = await signIdentity(secret, { kind: 'externalId', value: 'user-3001' }, Date.now())
    const answer = await edge.events({ site: KEY, events: [identify({ externalId: 'user-3001', signature }), pageVisit()] })
    expect(await idOf(answer)).toBe('crm-3001')
    await edge.flush()
  })

  it('gives an email nobody has to the visitor\'s contact as a verified one', async () => {
    const answer = await edge.events({ site: KEY, events: [await signed('newcomer@example.com'), pageVisit()] })
    await edge.flush()
    expect((await contact(await idOf(answer))).body).toMatchObject({ email: 'newcomer@example.com', claimedEmail: null })
  })

  it('stops accepting the old secret once it is rotated, and accepts the new one at once', async () => {
    const old = secret
    const rotated = await edge.admin<Json>('POST', `/sites/${SITE}/identity-secret`)
    expect(rotated.status).toBe(200)
    expect(rotated.body.value).toMatch(/^idsec_/)
    expect(rotated.body.value).not.toBe(old)
    secret = rotated.body.value
    const site = await edge.admin<Json>('GET', `/sites/${SITE}`)
    expect(site.body.identitySecret).toEqual({ createdAt: rotated.body.createdAt, endsWith: secret.slice(-4) })
    expect(JSON.stringify(site.body)).not.toContain(secret)
    const withOld = await edge.events({ site: KEY, events: [await signed('bob@example.com', Date.now(), old), pageVisit()] })
    expect(await idOf(withOld)).not.toBe('demo-bob')
    const withNew = await edge.events({ site: KEY, events: [await signed('bob@example.com'), pageVisit()] })
    expect(await idOf(withNew)).toBe('demo-bob')
    await edge.flush()
  })
})

describe('switching people on a shared computer', () => {
  it('switches a browser from one known contact to another without merging them, and to a new contact on an unsigned identify', async () => {
    const ana = await edge.events({ site: KEY, events: [await signed('ana@example.com'), pageVisit(`${ORIGIN}/ana`)] })
    expect(await idOf(ana)).toBe('demo-ana')
    const bob = await edge.events({ site: KEY, contact: ana.contact, state: ana.state, events: [pageVisit(`${ORIGIN}/still-ana`), await signed('bob@example.com'), pageVisit(`${ORIGIN}/bob`)] })
    expect(await idOf(bob)).toBe('demo-bob')
    expect(edge.queue.map((m) => m.kind === 'visit' && m.contactId)).toEqual(['demo-ana', 'demo-ana', 'demo-bob'])
    const stranger = await edge.events({ site: KEY, contact: bob.contact, state: bob.state, events: [identify({ email: 'chen@example.com' }), pageVisit(`${ORIGIN}/stranger`)] })
    const strangerId = await idOf(stranger)
    expect(strangerId).toMatch(/^c_/)
    await edge.flush()

    const urls = async (id: string) => ((await edge.admin<Json>('GET', `/sites/${SITE}/contacts/${id}/events?limit=200`)).body.items as Json[]).filter((e) => e.type === 'page_visit').map((e) => new URL(e.url).pathname)
    expect(await urls('demo-ana')).toEqual(expect.arrayContaining(['/ana', '/still-ana']))
    expect(await urls('demo-ana')).not.toContain('/bob')
    expect(await urls('demo-bob')).toContain('/bob')
    expect(await urls(strangerId)).toEqual(['/stranger'])
    for (const id of ['demo-ana', 'demo-bob', 'demo-chen']) expect((await contact(id)).status).toBe(200)
    expect((await contact('demo-bob')).body.email).toBe('bob@example.com')
    expect((await contact(strangerId)).body).toMatchObject({ email: null, claimedEmail: 'chen@example.com' })
  })

  it('keeps a known contact when an unsigned identify repeats its own email', async () => {
    const ana = await edge.events({ site: KEY, events: [await signed('ana@example.com'), pageVisit()] })
    const again = await edge.events({ site: KEY, contact: ana.contact, state: ana.state, events: [identify({ email: 'ANA@example.com' }), pageVisit()] })
    expect(again.contact).toBe(ana.contact)
    await edge.flush()
  })
})

describe('a site that trusts unsigned identify', () => {
  const other = new Edge()
  beforeAll(async () => {
    await other.seedDemo('trusting', 'pk_trusting_test')
    expect((await other.admin('PATCH', '/sites/trusting', { trustUnsignedIdentify: true })).body).toMatchObject({ trustUnsignedIdentify: true })
  })

  it('merges an unsigned identify into the known contact, as before signed identity', async () => {
    const answer = await other.events({ site: 'pk_trusting_test', events: [identify({ email: 'ana@example.com' }), pageVisit()] })
    expect(await other.contactOf('trusting', answer)).toBe('demo-ana')
    expect(contentIds(answer)).toEqual(['rock'])
    await other.flush()
  })

  it('gives both identifiers of one identify to the contact it leads to', async () => {
    const answer = await other.events({ site: 'pk_trusting_test', events: [identify({ externalId: 'bob-42', email: 'bob@example.com' }), pageVisit()] })
    expect(await other.contactOf('trusting', answer)).toBe('demo-bob')
    await other.flush()
    expect((await other.admin<Json>('GET', '/sites/trusting/contacts/demo-bob')).body).toMatchObject({ email: 'bob@example.com', externalId: 'bob-42' })
  })
})

describe('D1 has moved on since the edge decided', () => {
  it('never replaces an identifier a contact took first: two tabs signing in as two people keep both, one as a claim', async () => {
    const anon = await edge.events({ site: KEY, events: [pageVisit()] })
    await edge.flush()
    const one = await edge.events({ site: KEY, contact: anon.contact, state: anon.state, events: [await signed('tab-one@example.com')] })
    const two = await edge.events({ site: KEY, contact: anon.contact, state: anon.state, events: [await signed('tab-two@example.com')] })
    expect(await idOf(one)).toBe(await idOf(anon))
    expect(await idOf(two)).toBe(await idOf(anon))
    await edge.flush()
    expect((await contact(await idOf(anon))).body).toMatchObject({ email: 'tab-one@example.com', claimedEmail: 'tab-two@example.com' })
  })

  it('writes a visit that still names a contact merged in the same batch to the contact it joined', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'crm-4001', email: 'joiner@example.com' })
    const anon = await edge.events({ site: KEY, events: [pageVisit(`${ORIGIN}/before`)] })
    const anonId = await idOf(anon)
    await edge.flush()
    await edge.events({ site: KEY, contact: anon.contact, state: anon.state, events: [await signed('joiner@example.com'), pageVisit(`${ORIGIN}/signed-in`)] })
    // Another tab of the same browser, still holding the anonymous id and state.
    await edge.events({ site: KEY, contact: anon.contact, state: anon.state, events: [pageVisit(`${ORIGIN}/other-tab`)] })
    await edge.flush()
    expect((await contact(anonId)).status).toBe(404)
    const urls = ((await edge.admin<Json>('GET', `/sites/${SITE}/contacts/crm-4001/events`)).body.items as Json[]).flatMap((e) => (e.url ? [new URL(e.url).pathname] : []))
    expect(urls.sort()).toEqual(['/before', '/other-tab', '/signed-in'])
    expect(await env.KV.get(`contact:${SITE}:${anonId}`, 'json')).toEqual({ redirect: 'crm-4001' })
  })

  it('refuses to give an erased or merged contact\'s id to a new contact', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts/batch`, { contacts: [{ id: 'crm-5001', email: 'five@example.com' }, { id: 'crm-5002' }, { id: 'crm-5003' }] })
    expect((await edge.admin('DELETE', `/sites/${SITE}/contacts/crm-5001`)).status).toBe(204)
    expect((await edge.admin('POST', `/sites/${SITE}/contacts/crm-5002/merge`, { into: 'crm-5003' })).status).toBe(200)
    for (const id of ['crm-5001', 'crm-5002']) {
      const res = await edge.admin<Json>('POST', `/sites/${SITE}/contacts`, { id })
      expect(res.status, id).toBe(409)
      expect(res.body).toMatchObject({ error: { code: 'contact_id_taken' } })
    }
    // Even a writer that checked too early cannot bring the erased contact back.
    await expect((await dataOf(SITE)).of('crm-5001').prepare("INSERT INTO contacts (site_id, id, custom, created_at) VALUES (?1, 'crm-5001', '{}', 1)").bind(SITE).run()).rejects.toThrow(/erased or merged/)
    await edge.flush()
  })

  it('does not lead a browser id issued before a contact was created to it', async () => {
    const old = await issueBrowserId(env.STATE_SECRET, SITE, 'crm-6001', Date.now() - 3_600_000)
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'crm-6001', email: 'six@example.com' })
    await edge.flush()
    const answer = await edge.events({ site: KEY, contact: old, events: [pageVisit()] })
    expect(await idOf(answer)).not.toBe('crm-6001')
  })

  it('marks an erased contact again after a snapshot written just after the erasure', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts`, { id: 'crm-7001', email: 'seven@example.com', fields: { firstName: 'Sev' } })
    await edge.flush()
    const stale = await env.KV.get(`contact:${SITE}:crm-7001`)
    expect((await edge.admin('DELETE', `/sites/${SITE}/contacts/crm-7001`)).status).toBe(204)
    await env.KV.put(`contact:${SITE}:crm-7001`, stale!)
    await edge.flush()
    expect(await env.KV.get(`contact:${SITE}:crm-7001`, 'json')).toHaveProperty('erased')
  })

  it('keeps a kept identifier verified through merges that also bring it as a claim', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts/batch`, {
      contacts: [{ id: 'm-f', email: 'f@example.com' }, { id: 'm-k', email: 'v@example.com' }, { id: 'm-g' }, { id: 'm-h', email: 'h@example.com' }],
    })
    const claimed = await (await dataOf(SITE)).of('m-g').prepare("UPDATE contacts SET claimed_email = 'v@example.com' WHERE site_id = ?1 AND id = 'm-g'").bind(SITE).run()
    expect(claimed.meta.changes).toBe(1)
    for (const [from, into] of [['m-k', 'm-f'], ['m-g', 'm-f'], ['m-f', 'm-h']]) expect((await edge.admin('POST', `/sites/${SITE}/contacts/${from}/merge`, { into })).status).toBe(200)
    expect((await contact('m-h')).body.otherIdentifiers).toEqual(expect.arrayContaining([expect.objectContaining({ value: 'v@example.com', verified: true })]))
    const answer = await edge.events({ site: KEY, events: [await signed('v@example.com'), pageVisit()] })
    expect(await idOf(answer)).toBe('m-h')
    await edge.flush()
  })
})

describe('admin merge', () => {
  it('keeps every email, external id and field of both contacts, and leads the merged one\'s browsers to the survivor', async () => {
    await edge.admin('POST', `/sites/${SITE}/contacts/batch`, {
      contacts: [
        { id: 'dup-old', email: 'old@example.com', externalId: 'legacy-7', fields: { firstName: 'Olga', city: 'Lyon', favouriteGenre: 'jazz' } },
        { id: 'dup-new', email: 'new@example.com', fields: { firstName: 'Olga M.', country: 'FR' } },
      ],
    })
    const oldBrowser = await edge.events({ site: KEY, events: [await signed('old@example.com'), pageVisit(`${ORIGIN}/old`)] })
    expect(await idOf(oldBrowser)).toBe('dup-old')
    await edge.flush()

    const merged = await edge.admin<Json>('POST', `/sites/${SITE}/contacts/dup-old/merge`, { into: 'dup-new' })
    expect(merged.status).toBe(200)
    expect(merged.body).toMatchObject({
      id: 'dup-new',
      email: 'new@example.com',
      externalId: 'legacy-7',
      fields: { firstName: 'Olga M.', country: 'FR', city: 'Lyon', favouriteGenre: 'jazz' },
    })
    expect((await contact('dup-old')).status).toBe(404)
    expect((await contact('dup-new')).body.otherIdentifiers).toMatchObject([{ kind: 'email', value: 'old@example.com', verified: true }])

    const exported = await (await edge.fetch(`/api/v1/sites/${SITE}/contacts/dup-new/export`, { headers: { authorization: 'Bearer test-admin-token' } })).json<Json>()
    expect(exported.mergedContacts).toMatchObject([{ id: 'dup-old', source: 'admin', kept: { email: 'old@example.com', fields: { firstName: 'Olga', city: 'Lyon' } } }])
    expect(exported.activities.map((a: Json) => a.url && new URL(a.url).pathname)).toContain('/old')

    const byOldEmail = await edge.events({ site: KEY, events: [await signed('old@example.com'), pageVisit()] })
    expect(await idOf(byOldEmail)).toBe('dup-new')
    const oldBrowserLater = await edge.events({ site: KEY, contact: oldBrowser.contact, events: [pageVisit()] })
    expect(await idOf(oldBrowserLater)).toBe('dup-new')
    await edge.flush()
    expect((await edge.admin('POST', `/sites/${SITE}/contacts`, { email: 'old@example.com' })).status).toBe(409)
  })

  it('refuses to merge a contact into itself or into one that does not exist', async () => {
    expect((await edge.admin('POST', `/sites/${SITE}/contacts/demo-bob/merge`, { into: 'demo-bob' })).status).toBe(400)
    expect((await edge.admin('POST', `/sites/${SITE}/contacts/demo-bob/merge`, { into: 'nobody-here' })).status).toBe(404)
    expect((await contact('demo-bob')).status).toBe(200)
  })
})

describe('export', () => {
  it('answers a data-access request with everything kept about one contact, and only that contact', async () => {
    const res = await edge.fetch(`/api/v1/sites/${SITE}/contacts/demo-ana/export`, { headers: { authorization: 'Bearer test-admin-token' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toContain('attachment')
    const body = await res.json<Json>()
    expect(body.contact).toMatchObject({ id: 'demo-ana', email: 'ana@example.com', fields: { firstName: 'Ana' } })
    expect(body.segments.map((s: Json) => s.id)).toContain('seg_millennials')
    expect(body.activities.length).toBe(await count('events', 'contact_id', 'demo-ana'))
    expect(body.limitationCounters.length).toBeGreaterThan(0)
    expect(JSON.stringify(body)).not.toMatch(/bob@example\.com|demo-bob/)
    expect((await edge.fetch(`/api/v1/sites/${SITE}/contacts/nobody-here/export`, { headers: { authorization: 'Bearer test-admin-token' } })).status).toBe(404)
  })
})
