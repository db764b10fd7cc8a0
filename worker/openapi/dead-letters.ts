/** The document's dead letters: worker/dead-letters/routes.ts. */
import { z } from '@hono/zod-openapi'
import { type Operation } from './operation'
import { instant, page, pageQuery } from './shapes'

const deadLetter = z
  .object({
    id: z.string(),
    kind: z.string().meta({ description: 'The kind of queue message: visit, refresh, erase, cron, move' }),
    contactId: z.string().nullable(),
    reason: z.string().meta({ description: 'Why it could not be written' }),
    outcome: z.enum(['held', 'partly written']).meta({ description: 'Held: nothing was written, it can be replayed. Partly written: what could be was; it can only be dismissed' }),
    createdAt: instant,
    message: z.unknown().meta({ description: 'The queue message as it was' }),
  })
  .openapi('DeadLetter')

const ID = { description: 'The dead letter id', example: 'dl_3kq9x0v2m1' }

export const deadLetterOperations: Operation[] = [
  {
    id: 'listDeadLetters',
    method: 'get',
    path: '/sites/:site/dead-letters',
    tag: 'dead-letters',
    summary: 'List dead letters',
    description: 'Queue messages that could not be written, or only in part; newest first.',
    query: pageQuery,
    ok: {
      status: 200,
      description: 'A page of dead letters',
      schema: page(deadLetter),
      examples: {
        held: {
          value: {
            items: [
              {
                id: 'dl_3kq9x0v2m1',
                kind: 'visit',
                contactId: 'b_k2m9q7x1',
                reason: 'D1 was unreachable for 100 tries',
                outcome: 'held',
                createdAt: '2026-11-21T03:12:40.000Z',
                message: { kind: 'visit', site: 'demo', contact: 'b_k2m9q7x1' },
              },
            ],
            nextCursor: null,
          },
        },
      },
    },
  },
  {
    id: 'replayDeadLetter',
    method: 'post',
    path: '/sites/:site/dead-letters/:id/replay',
    tag: 'dead-letters',
    summary: 'Replay a held dead letter',
    description: 'Sends it back to the queue and forgets it here; if it fails again it comes back as a new dead letter.',
    params: { id: ID },
    ok: { status: 204, description: 'Sent back to the queue' },
    refusals: { 409: 'It was written in part already: dismiss it once you have read what was dropped' },
  },
  {
    id: 'dismissDeadLetter',
    method: 'delete',
    path: '/sites/:site/dead-letters/:id',
    tag: 'dead-letters',
    summary: 'Dismiss a dead letter',
    params: { id: ID },
    ok: { status: 204, description: 'Dismissed' },
  },
]
