import { Hono } from 'hono'
import { type AppEnv } from '../app-env'
import { sameSecret } from '../http/auth'
import { Alert, Layout } from './layout'
import { endSession, readSession, requireSession, startSession } from './session'

function safeNext(next: string | undefined): string {
  return next && next.startsWith('/admin') && !next.startsWith('//') ? next : '/admin'
}

function SignIn(p: { next?: string; error?: string }) {
  return (
    <Layout title="Sign in">
      <h1>Sign in to Segue</h1>
      <form method="post" action="/admin/sign-in" class="card" style="max-width:420px">
        <Alert message={p.error} />
        <input type="hidden" name="next" value={p.next ?? ''} />
        <div class="field">
          <label for="token">Admin token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required aria-describedby="token-hint" />
          <div class="hint" id="token-hint">The ADMIN_TOKEN secret of this Segue deployment.</div>
        </div>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  )
}

export const authRoutes = new Hono<AppEnv>()
  .get('/sign-in', async (c) => {
    if (await readSession(c)) return c.redirect(safeNext(c.req.query('next')), 303)
    return c.html(<SignIn next={c.req.query('next')} />)
  })
  .post('/sign-in', async (c) => {
    const form = await c.req.parseBody()
    const token = typeof form.token === 'string' ? form.token : ''
    const next = typeof form.next === 'string' ? form.next : undefined
    if (!c.env.ADMIN_TOKEN || !(await sameSecret(token, c.env.ADMIN_TOKEN))) {
      return c.html(<SignIn next={next} error="That is not the admin token of this deployment." />, 401)
    }
    await startSession(c)
    return c.redirect(safeNext(next), 303)
  })
  .post('/sign-out', requireSession, (c) => {
    endSession(c)
    return c.redirect('/admin/sign-in', 303)
  })
