/**
 * The page a console request gets when the person sending it cannot be signed in: Cloudflare Access would
 * not vouch for them (403), or Access is not set up right or its keys are out of reach (503).
 */
import { type Context } from 'hono'
import { type Refusal } from '../http/errors'
import { Alert, PageHeader } from './layout'
import { type ConsoleEnv } from './session'

export function refusedPage(c: Context<ConsoleEnv>, refusal: Refusal) {
  const title = refusal.status === 403 ? 'Access refused' : 'Sign-in unavailable'
  c.status(refusal.status)
  if (refusal.detail.retryAfter !== undefined) c.header('Retry-After', String(refusal.detail.retryAfter))
  return c.render(
    <>
      <PageHeader title={title} />
      <Alert message={refusal.message} />
    </>,
    { title },
  )
}
