/**
 * The work behind dead letters, shared with the console: a held message sent back to the queue once its
 * cause is fixed, or any one dismissed.
 */
import { type DeadLetter, dropDeadLetter, getDeadLetter } from '../data/dead-letters'
import { type Site } from '../data/sites'
import { type QueueMessage } from '../background/messages'
import { refuse, notFound } from '../http/errors'

/** A dead letter as the admin API shows it. */
export function deadLetterJson(d: DeadLetter) {
  return { id: d.id, kind: d.kind, contactId: d.contactId, reason: d.reason, outcome: d.outcome, createdAt: new Date(d.createdAt).toISOString(), message: d.body }
}

/**
 * Sends a held message back to the queue, once its cause is fixed, and forgets it here: if it fails again
 * it comes back as a new dead letter. A message written in part is done; it can only be dismissed.
 */
export async function replayDeadLetter(env: Env, site: Site, id: string): Promise<void> {
  const letter = await getDeadLetter(env.DB, site.id, id)
  if (!letter) throw notFound('dead_letter', id)
  if (letter.outcome !== 'held') throw refuse('conflict', 'already_written', 'This message was written in part already; dismiss it once you have read what was dropped')
  await env.EVENTS.send(letter.body as QueueMessage)
  await dropDeadLetter(env.DB, site.id, id).run()
}

export async function dismissDeadLetter(db: D1Database, site: Site, id: string): Promise<void> {
  if (!(await getDeadLetter(db, site.id, id))) throw notFound('dead_letter', id)
  await dropDeadLetter(db, site.id, id).run()
}
