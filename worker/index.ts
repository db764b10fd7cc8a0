import { app } from './app'
import { consume } from './edge/consumer'
import { runScheduled } from './edge/cron'
import { type QueueMessage } from './edge/messages'

export default {
  fetch: app.fetch,
  queue: (batch, env) => consume(batch, env),
  scheduled: (_controller, env, ctx) => ctx.waitUntil(runScheduled(env)),
} satisfies ExportedHandler<Env, QueueMessage>
