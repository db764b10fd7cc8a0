import { app } from './app'
import { consume } from './edge/consumer'
import { runScheduled } from './edge/cron'
import { type QueueMessage } from './edge/messages'
import { refuseUnsafeSecrets } from './http/secrets'

export default {
  fetch: (request, env, ctx) => refuseUnsafeSecrets(env) ?? app.fetch(request, env, ctx),
  queue: (batch, env) => consume(batch, env),
  scheduled: (_controller, env, ctx) => ctx.waitUntil(runScheduled(env)),
} satisfies ExportedHandler<Env, QueueMessage>
