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

/**
 * Marks an erased contact's ids erased at the edge (its own id first, then the ids merged into it). One
 * request marks the first ERASE_NOW itself, so an erasure takes effect as it answers; a contact with more
 * aliases than that has the rest marked by the queue consumer, well inside Cloudflare's 1,000 KV
 * operations an invocation.
 */
export async function markErasedAtTheEdge(env: Env, siteId: string, contactIds: readonly string[], now: number): Promise<void> {
  await markErased(env.KV, siteId, contactIds.slice(0, ERASE_NOW), now)
  const messages: Array<{ body: EraseMessage }> = []
  for (let i = ERASE_NOW; i < contactIds.length; i += ERASE_CHUNK) messages.push({ body: { kind: 'erase', siteId, contactIds: contactIds.slice(i, i + ERASE_CHUNK), at: now } })
  if (messages.length > 0) await env.EVENTS.sendBatch(messages)
}
