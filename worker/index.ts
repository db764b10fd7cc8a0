/**
 * The Worker's three entry points: `fetch` (the HTTP app, behind the secrets check), `queue` (the consumer,
 * and the keeper of the dead-letter queue) and `scheduled` (the cron).
 */
import { app } from './app'
import { DEAD_LETTER_QUEUE, consume, keepDeadLetters } from './background/consumer'
import { runScheduled } from './background/cron'
import { type QueueMessage } from './background/messages'
import { refuseUnsafeSecrets } from './http/secrets'

export default {
  fetch: (request, env, ctx) => refuseUnsafeSecrets(env) ?? app.fetch(request, env, ctx),
  queue: (batch, env) => (batch.queue === DEAD_LETTER_QUEUE ? keepDeadLetters(batch, env) : consume(batch, env)),
  scheduled: (_controller, env, ctx) => ctx.waitUntil(runScheduled(env)),
} satisfies ExportedHandler<Env, QueueMessage>
