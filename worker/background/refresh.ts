/**
 * What admin changes ask of the edge's snapshots: rebuilds from D1 queued 100 contacts a message, and an
 * erased contact's ids marked erased in KV, the first ones at once and all of them again through the queue.
 */
import { type EraseMessage, type RefreshMessage } from './messages'
import { markErased } from './store'

/**
 * Queues a rebuild of these contacts' edge snapshots from D1, after an admin change to them. The rebuilt
 * snapshot is versioned newer than any token the browser holds, so the change wins at the next visit.
 */
export async function queueSnapshotRefresh(env: Env, siteId: string, contactIds: readonly string[]): Promise<void> {
  const messages: Array<{ body: RefreshMessage }> = []
  for (let i = 0; i < contactIds.length; i += 100) messages.push({ body: { kind: 'refresh', siteId, contactIds: contactIds.slice(i, i + 100) } })
  if (messages.length > 0) await env.EVENTS.sendBatch(messages)
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
  // A queue takes at most 100 messages a send.
  for (let i = 0; i < messages.length; i += 100) await env.EVENTS.sendBatch(messages.slice(i, i + 100))
}
