import { type RefreshMessage } from './messages'

/**
 * Queues a rebuild of these contacts' edge snapshots from D1, after an admin change to them. The rebuilt
 * snapshot is versioned newer than any token the browser holds, so the change wins at the next visit.
 */
export async function queueSnapshotRefresh(env: Env, siteId: string, contactIds: readonly string[]): Promise<void> {
  const messages: Array<{ body: RefreshMessage }> = []
  for (let i = 0; i < contactIds.length; i += 100) messages.push({ body: { kind: 'refresh', siteId, contactIds: contactIds.slice(i, i + 100) } })
  if (messages.length > 0) await env.EVENTS.sendBatch(messages)
}
