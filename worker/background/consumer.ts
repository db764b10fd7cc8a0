/**
 * The queue consumer: the single writer of what visits did. The visits of one site in a batch are written
 * in one D1 transaction (worker/background/write-visits.ts); if that fails they are written one by one, so one
 * bad message holds back no other. A message is acknowledged only once everything it asks is done — D1
 * written, and the KV snapshots and redirects of its contacts rewritten — and retried otherwise; a message
 * that cannot be written for a reason no retry will fix is written as far as it can be, or kept, with the
 * reason, as a dead letter an admin sees and can replay.
 */
import { writeImportChunk } from '../contacts/import'
import { type DeadLetterOutcome, keepDeadLetter } from '../data/dead-letters'
import { movedOrErased } from '../data/erasure'
import { processedAmong } from '../data/processed'
import { type SiteData, shardNames, siteData } from '../data/shards'
import { getSite } from '../data/sites'
import { newId } from '../lib/ids'
import { type CompiledSite, compileSite } from '../visits/compile'
import { type Attention, type Snapshot, mergeAttention } from '../visits/snapshot'
import { Budget, IMPORT_CHUNKS_AN_INVOCATION, aloneCost, messageCost, siteCost } from './budget'
import { cronSite } from './cron'
import { moveStep } from './move'
import { buildSiteConfig } from './publish'
import { sendAll } from './refresh'
import { type QueueMessage, type VisitMessage } from './messages'
import { loadSnapshots, markErased, readSnapshot, snapshotKeepDays, writeSnapshot } from './store'
import { type Written, finishDepartures, withoutIdentity, writeVisits } from './write-visits'

export { affectedSegments } from './write-visits'

/** The queue a message lands in once Cloudflare has delivered it `max_retries` times (wrangler.toml). */
export const DEAD_LETTER_QUEUE = 'segue-events-dead'

type Usage = [day: number, bytes: number]

/** The later day's count, or the larger of the same day's. */
function newerUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!a || !b) return a ?? b
  return a[0] !== b[0] ? (a[0] > b[0] ? a : b) : a[1] >= b[1] ? a : b
}

/** A snapshot to rebuild: the version to write at least, and what D1 does not keep that visits carried. */
interface Wanted {
  v: number
  usage?: Usage
  attention?: Attention
}

/** What one message still needs before it can be acknowledged. */
interface Work {
  message: Message<QueueMessage>
  /** Contacts whose KV snapshot must be rewritten, with the version to write at least and what they stored today. */
  rebuild: Array<[siteId: string, contactId: string, v: number, usage?: Usage, attention?: Attention]>
  redirects: Array<[siteId: string, alias: string, target: string]>
  failed?: unknown
}

export async function consume(batch: MessageBatch<QueueMessage>, env: Env): Promise<void> {
  const budget = new Budget()
  const messages = await admit(env, batch.messages, budget)
  // One compiled config per site for the whole batch: D1's, not KV's, since D1 is what is written.
  const sites = new Map<string, CompiledSite | null>()
  const siteOf = async (siteId: string): Promise<CompiledSite | null> => {
    if (!sites.has(siteId)) {
      const config = await buildSiteConfig(env.DB, siteId)
      sites.set(siteId, config ? compileSite(config) : null)
    }
    return sites.get(siteId)!
  }
  const work = messages.map((message): Work => ({ message, rebuild: [], redirects: [] }))
  const visits = new Map<string, Work[]>()
  for (const w of work) {
    const body = w.message.body
    try {
      if (body.kind === 'erase') await markErased(env.KV, body.siteId, body.contactIds, body.at)
      else if (body.kind === 'cron') await cronSite(env, body.siteId, body.at)
      else if (body.kind === 'move') await moveStep(env, body)
      else if (body.kind === 'import') await writeImportChunk(env, body)
      else if (!(await siteOf(body.siteId))) continue
      else if (body.kind === 'refresh') w.rebuild.push(...body.contactIds.map((id): [string, string, number] => [body.siteId, id, 0]))
      else visits.set(body.siteId, [...(visits.get(body.siteId) ?? []), w])
    } catch (err) {
      w.failed = err
    }
  }
  for (const [siteId, list] of visits) {
    const site = (await siteOf(siteId))!
    // A site moving to other shards takes no writes until it has arrived: its visits wait in the queue, sent
    // again for later (a wait is not a failed delivery, so no number of them makes a dead letter).
    if (site.config.site.movingTo) await sendLater(env, list)
    else await writeSite(env, site, list, budget)
  }

  for (const w of work) {
    for (const [siteId, alias, target] of w.redirects) {
      if (w.failed) break
      const site = sites.get(siteId)
      await writeSnapshot(env.KV, siteId, { redirect: target }, alias, site ? snapshotKeepDays(site) : undefined).catch((err) => (w.failed = err))
    }
  }
  // Each contact is rebuilt once, at the newest version any message asks, with the most it stored today.
  const wanted = new Map<string, Map<string, Wanted>>()
  for (const w of work) {
    if (w.failed) continue
    for (const [siteId, contactId, v, usage, attention] of w.rebuild) {
      const site = wanted.get(siteId) ?? new Map<string, Wanted>()
      const known = site.get(contactId)
      site.set(contactId, { v: Math.max(known?.v ?? 0, v), usage: newerUsage(known?.usage, usage), attention: mergeAttention(known?.attention, attention, Date.now()) })
      wanted.set(siteId, site)
    }
  }
  const unbuilt = new Map<string, unknown>()
  for (const [siteId, contacts] of wanted) {
    const site = await siteOf(siteId).catch(() => null)
    if (!site) continue
    const failed = await rebuildSnapshots(env, site, contacts)
    for (const [contactId, err] of failed) unbuilt.set(`${siteId}\u0000${contactId}`, err)
  }
  for (const w of work) {
    if (w.failed === DEFERRED) continue
    const failed = w.failed ?? w.rebuild.map(([siteId, id]) => unbuilt.get(`${siteId}\u0000${id}`)).find((e) => e !== undefined)
    if (failed === undefined) w.message.ack()
    else await retry(env, w.message, failed)
  }
}

/**
 * The messages this invocation takes on, in order, while the most they can cost fits its budget; the
 * others are sent to the queue again, as new messages (a deferral is not a failed delivery), and
 * acknowledged. Should that send fail, they are retried instead.
 */
async function admit(env: Env, messages: readonly Message<QueueMessage>[], budget: Budget): Promise<Message<QueueMessage>[]> {
  // The most shards a site can be spread over: what each cost assumes of a site whose placement is not read yet.
  const shards = Math.max(1, shardNames(env).length)
  const sites = new Set<string>()
  const taken: Message<QueueMessage>[] = []
  const later: Message<QueueMessage>[] = []
  let chunks = 0
  for (const message of messages) {
    const body = message.body
    const first = (body.kind === 'visit' || body.kind === 'refresh') && !sites.has(body.siteId)
    const cost = messageCost(body, shards)
    const site = siteCost(shards)
    if (body.kind === 'import' && ++chunks > IMPORT_CHUNKS_AN_INVOCATION) later.push(message)
    else if (budget.take(first ? { d1: cost.d1 + site.d1, kv: cost.kv + site.kv } : cost)) {
      taken.push(message)
      if (first) sites.add(body.siteId)
    } else if (taken.length === 0 && later.length === 0) {
      // Bounds that assume the most shards a site can have may exceed a whole invocation's budget: the
      // first message is still taken on, alone, rather than sent on forever.
      budget.spendAll()
      taken.push(message)
      if (first) sites.add(body.siteId)
    } else later.push(message)
  }
  if (later.length > 0) {
    try {
      await sendAll(env.EVENTS, later.map((m) => ({ body: m.body })))
      for (const m of later) m.ack()
    } catch (err) {
      console.error('queue: messages left for a later invocation could not be sent again; they will be retried', err)
      for (const m of later) m.retry({ delaySeconds: 1 })
    }
  }
  return taken
}

/** How long the visits of a site that is moving wait before they are tried again. */
const MOVING_WAIT_S = 30

/** Sends these messages to the queue again, to be delivered after a wait; retried should that fail. */
async function sendLater(env: Env, list: Work[]): Promise<void> {
  try {
    await sendAll(env.EVENTS, list.map((w) => ({ body: w.message.body, delaySeconds: MOVING_WAIT_S })))
    for (const w of list) w.message.ack()
  } catch (err) {
    for (const w of list) w.failed = err
  }
  // Acknowledged or failed: either way nothing more is done with them in this invocation.
  for (const w of list) w.rebuild.length = 0
  for (const w of list) w.failed ??= DEFERRED
}

/** Marks a message sent again for later: neither acknowledged again nor retried at the end. */
const DEFERRED = Symbol('deferred')

/** Writes the visits of one site: settled, deduplicated, then in one transaction or one by one. */
async function writeSite(env: Env, site: CompiledSite, list: Work[], budget: Budget): Promise<void> {
  const siteId = site.config.site.id
  const data = siteData(env, site.config.site)
  const bodies = () => list.map((w) => w.message.body as VisitMessage)
  let moved: Map<string, string | null>
  let processed: Set<string>
  try {
    ;[moved, processed] = await Promise.all([
      movedOrErased(data, bodies().flatMap((m) => [m.contactId, ...(m.mergedFrom ? [m.mergedFrom] : [])])),
      processedAmong(data, bodies().flatMap((m) => (m.id !== undefined ? [m.id] : []))),
    ])
  } catch (err) {
    for (const w of list) w.failed = err
    return
  }
  const done = (w: Work, written: Written) => {
    const m = w.message.body as VisitMessage
    w.rebuild.push([siteId, written.contactId, m.v, m.usage, m.attention])
    for (const [alias, target] of written.redirects) w.redirects.push([siteId, alias, target])
  }
  // A visit to a contact erased since the edge decided goes with it: nothing brings an erased contact back.
  // An edge that still decided for it saw its snapshot, so it is marked erased in KV once more.
  const erased = (id: string | undefined) => id !== undefined && moved.get(id) === null
  const pending: Work[] = []
  for (const w of list) {
    const m = w.message.body as VisitMessage
    if (erased(m.contactId) || erased(m.mergedFrom)) {
      await markErased(env.KV, siteId, [m.contactId, m.mergedFrom].filter((id): id is string => erased(id)), Date.now()).catch((err) => (w.failed = err))
    } else if (m.id !== undefined && processed.has(m.id)) {
      // Written by an earlier delivery that did not finish: only its KV work is left, as D1 now has it, and
      // a merge across shards it wrote may still have to let the merged contact go on its own shard.
      const unsettled = [m.contactId, m.mergedFrom].filter((id): id is string => id !== undefined && !moved.has(id))
      const identifies = m.mergedFrom !== undefined || typeof m.fields.email === 'string' || typeof m.fields.externalId === 'string'
      if (identifies && data.shards.length > 1 && unsettled.length > 0) {
        try {
          for (const [id, into] of await finishDepartures(data, site, unsettled, m.v)) moved.set(id, into)
        } catch (err) {
          w.failed = err
          continue
        }
      }
      const target = (id: string | undefined) => (id === undefined ? undefined : moved.get(id) ?? undefined)
      const redirects = [m.contactId, m.mergedFrom].flatMap((id): Array<[string, string]> => (target(id) ? [[id!, target(id)!]] : []))
      done(w, { contactId: target(m.contactId) ?? m.contactId, redirects })
    } else pending.push(w)
  }
  if (pending.length === 0) return
  // Each attempt settles identities on its own copy of `moved`: only a written merge moves an id.
  try {
    const written = await writeVisits(data, site, pending.map((w) => w.message.body as VisitMessage), new Map(moved))
    pending.forEach((w, i) => done(w, written[i]))
    return
  } catch {
    // One transaction for them all failed: write them one by one, so one bad message holds back no other.
    // With several shards, some may have committed: writing a visit again adds nothing twice (see write-visits.ts).
  }
  for (const w of pending) {
    const m = w.message.body as VisitMessage
    if (!budget.take(aloneCost(data.shards.length))) {
      w.failed = new Error('left for a later delivery: this invocation has spent its D1 budget')
      continue
    }
    const attempt = new Map(moved)
    try {
      done(w, (await writeVisits(data, site, [m], attempt))[0])
      moved = attempt
    } catch (err) {
      if (!cannotSucceed(err)) w.failed = err
      else await writeWhatCan(env, data, site, w, m, err, moved).then((written) => written && done(w, written), (e) => (w.failed = e))
    }
  }
}

/**
 * A visit D1 refused for a reason no retry will fix. Without its identity changes (a constraint another
 * writer won) it may still go in: then it is written so, and what was dropped is recorded in the same
 * transaction. Otherwise the whole message is kept as a dead letter. A passing fault on the way is thrown:
 * the message is retried.
 */
async function writeWhatCan(env: Env, data: SiteData, site: CompiledSite, w: Work, m: VisitMessage, err: unknown, moved: Map<string, string | null>): Promise<Written | undefined> {
  const letter = (reason: string, outcome: DeadLetterOutcome) =>
    keepDeadLetter(env.DB, { id: newId('dl'), siteId: m.siteId, kind: m.kind, contactId: m.contactId, body: m, reason, outcome, createdAt: Date.now() })
  const { message, dropped } = withoutIdentity(m)
  if (dropped.length > 0) {
    const reason = `${errorText(err)}. Written without its identity: ${dropped.join('; ')}.`
    try {
      const written = (await writeVisits(data, site, [message], new Map(moved), [letter(reason, 'partly written')]))[0]
      console.error(`queue: a visit of site ${m.siteId} was written in part: ${reason}`)
      return written
    } catch (again) {
      if (!cannotSucceed(again)) throw again
    }
  }
  console.error(`queue: a visit of site ${m.siteId} cannot be written; kept as a dead letter: ${errorText(err)}`)
  await letter(errorText(err), 'held').run()
  w.rebuild.length = 0
  return undefined
}

/**
 * D1 refusals that the same statements will meet again however often they are retried: a constraint,
 * a value of the wrong type, a value too big. D1 being unreachable, overloaded or timing out is worth a
 * retry; so is the refusal to create a contact id erased or merged meanwhile, and to write a contact's
 * state another writer changed meanwhile (the next attempt reads what they left).
 */
export function cannotSucceed(err: unknown): boolean {
  const text = errorText(err)
  if (/erased or merged|contact state moved/.test(text)) return false
  return PERMANENT.test(text)
}

const PERMANENT =
  /constraint failed|SQLITE_CONSTRAINT|SQLITE_MISMATCH|datatype mismatch|D1_TYPE_ERROR|SQLITE_TOOBIG|string or blob too big|too many SQL variables|malformed JSON|statement too long/i

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err))

/** Retries a message later; a visit's last error is kept (a day) for its dead letter, should it become one. */
async function retry(env: Env, message: Message<QueueMessage>, err: unknown): Promise<void> {
  console.error('queue: a message is not done; it will be retried', err)
  if (message.body.kind === 'visit' && message.body.id !== undefined) {
    await env.KV.put(lastErrorKey(message.body.id), errorText(err).slice(0, 1000), { expirationTtl: 2 * 86_400 }).catch(() => undefined)
  }
  message.retry({ delaySeconds: Math.min(60, 2 ** message.attempts) })
}

const lastErrorKey = (messageId: string) => `queue-error:${messageId}`

/**
 * Messages Cloudflare gave up on after `max_retries` deliveries arrive here: each is kept as a dead letter
 * with its last error, for an admin to see and replay once the cause is fixed. One whose D1 part was
 * written (only KV failed) is recorded as written in part: replaying it would write it twice. With D1
 * unreachable this waits too, up to an hour between tries, for days.
 */
export async function keepDeadLetters(batch: MessageBatch<QueueMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const body = message.body
    try {
      const id = body.kind === 'visit' ? body.id : undefined
      const site = id === undefined ? undefined : await getSite(env.DB, body.siteId)
      const [last, processed] = id === undefined || !site ? [null, new Set<string>()] : await Promise.all([env.KV.get(lastErrorKey(id)), processedAmong(siteData(env, site), [id])])
      const written = id !== undefined && processed.has(id)
      const reason = written
        ? `Written to D1; its contacts' snapshots could not be rewritten in KV after ${message.attempts} deliveries (they are rebuilt at their next visit)`
        : `Not written after ${message.attempts} deliveries${last ? `; the last error: ${last}` : ''}`
      const contactId = body.kind === 'visit' ? body.contactId : null
      await keepDeadLetter(env.DB, { id: newId('dl'), siteId: body.siteId, kind: body.kind, contactId, body, reason, outcome: written ? 'partly written' : 'held', createdAt: Date.now() }).run()
      message.ack()
    } catch (err) {
      console.error('queue: a dead letter could not be kept; it will be retried', err)
      message.retry({ delaySeconds: Math.min(3600, 60 * 2 ** message.attempts) })
    }
  }
}

/**
 * Rewrites contacts' KV snapshots from D1: their rows, memberships, counters and kept aggregates, read in
 * one call (see `loadSnapshots`). A snapshot's version is the newest of the visits written for it and the
 * one already in KV, so a token from a later visit still wins; `v` 0 (an admin change) makes it newer
 * than any token. A contact gone from D1 (erased: the erasure marked it in KV; or not written yet) leaves
 * KV as it is; an id merged into another points there. Returns the contacts that could not be rewritten.
 */
export async function rebuildSnapshots(env: Env, site: CompiledSite, contacts: Map<string, Wanted>): Promise<Map<string, unknown>> {
  const siteId = site.config.site.id
  const now = Date.now()
  const failed = new Map<string, unknown>()
  let snapshots: Map<string, Snapshot>
  try {
    snapshots = await loadSnapshots(siteData(env, site.config.site), site, [...contacts.keys()], now, true)
  } catch (err) {
    for (const id of contacts.keys()) failed.set(id, err)
    return failed
  }
  for (const [contactId, { v, usage, attention }] of contacts) {
    try {
      const snap = snapshots.get(contactId)
      if (!snap) continue
      if (snap.id !== contactId) {
        await writeSnapshot(env.KV, siteId, { redirect: snap.id }, contactId, snapshotKeepDays(site))
        continue
      }
      const stored = await readSnapshot(env.KV, siteId, contactId)
      const previous = stored && 'v' in stored ? stored.v : 0
      snap.v = v === 0 ? Math.max(now, previous + 1) : Math.max(v, previous)
      // D1 does not keep what a contact stored today: the newest count, from KV or the visits, carries over.
      const q = newerUsage(stored && 'q' in stored ? stored.q : undefined, usage)
      if (q) snap.q = q
      // Nor the contact's attention (its session, the interruptive content it was shown and closed).
      const z = mergeAttention(stored && 'z' in stored ? stored.z : undefined, attention, now)
      if (z) snap.z = z
      // KV takes about one write a second per key: a refused write fails the message, whose retry writes again.
      await writeSnapshot(env.KV, siteId, snap, snap.id, snapshotKeepDays(site))
    } catch (err) {
      failed.set(contactId, err)
    }
  }
  return failed
}
