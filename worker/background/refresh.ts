/**
 * What admin changes ask of the edge's snapshots: rebuilds from D1 queued 20 contacts a message, and an
 * erased contact's ids marked erased in KV, the first ones at once and all of them again through the queue.
 */
import { REFRESH_CHUNK } from './budget'
import { type EraseMessage, type QueueMessage, type RefreshMessage } from './messages'
import { markErased } from './store'

/** What Cloudflare's queues take in one send: 100 messages, 256 KB in all (kept well under). */
const SEND_MAX_MESSAGES = 100
const SEND_MAX_BYTES = 200_000

/** Sends any number of messages, in as few sends as the queue's limits allow. */
export async function sendAll(queue: Queue<QueueMessage>, messages: readonly MessageSendRequest<QueueMessage>[]): Promise<void> {
  const encoder = new TextEncoder()
  let batch: MessageSendRequest<QueueMessage>[] = []
  let bytes = 0
  for (const m of messages) {
    const size = encoder.encode(JSON.stringify(m.body)).length
    if (batch.length === SEND_MAX_MESSAGES || (batch.length > 0 && bytes + size > SEND_MAX_BYTES)) {
      await queue.sendBatch(batch)
      batch = []
      bytes = 0
    }
    batch.push(m)
    bytes += size
  }
  if (batch.length > 0) await queue.sendBatch(batch)
}

/**
 * Queues a rebuild of these contacts' edge snapshots from D1, after an admin change to them. The rebuilt
 * snapshot is versioned newer than any token the browser holds, so the change wins at the next visit.
 */
export async function queueSnapshotRefresh(env: Env, siteId: string, contactIds: readonly string[]): Promise<void> {
  const messages: Array<{ body: RefreshMessage }> = []
  for (let i = 0; i < contactIds.length; i += REFRESH_CHUNK) messages.push({ body: { kind: 'refresh', siteId, contactIds: contactIds.slice(i, i + REFRESH_CHUNK) } })
  await sendAll(env.EVENTS, messages)
}

/** KV writes an erasure makes itself; the ids past these go to the queue, a bounded chunk a message. */
const ERASE_NOW = 200
const ERASE_CHUNK = 50
/** A snapshot rebuild that read D1 just before the erasure may write KV just after it: mark again later. */
const ERASE_AGAIN_AFTER_S = 60

/**
 * Marks an erased contact's ids erased at the edge (its own id first, then the ids merged into it). The
 * request marks the first ERASE_NOW itself, so the erasure takes effect as it answers; the queue marks
 * them all once more a minute later, and marks any past ERASE_NOW, 50 a message, well inside Cloudflare's
 * 1,000 KV operations an invocation.
 */
export async function markErasedAtTheEdge(env: Env, siteId: string, contactIds: readonly string[], now: number): Promise<void> {
  await markErased(env.KV, siteId, contactIds.slice(0, ERASE_NOW), now)
  const messages: MessageSendRequest<EraseMessage>[] = []
  for (let i = 0; i < contactIds.length; i += ERASE_CHUNK) {
    const body: EraseMessage = { kind: 'erase', siteId, contactIds: contactIds.slice(i, i + ERASE_CHUNK), at: now }
    messages.push(i < ERASE_NOW ? { body, delaySeconds: ERASE_AGAIN_AFTER_S } : { body })
  }
  await sendAll(env.EVENTS, messages)
}
