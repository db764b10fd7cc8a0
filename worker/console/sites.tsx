import { Hono } from 'hono'
import { z } from 'zod'
import { allContent } from '../data/content'
import { contentCounts } from '../data/reports'
import { type Site, listSites } from '../data/sites'
import { allWorkflows } from '../data/workflows'
import { publishSiteConfig } from '../edge/config'
import { siteCreate } from '../sites/schema'
import { createSite, updateSite } from '../sites/service'
import { describeIssues } from '../http/validate'
import { type FormErrors, errorsOf, text } from './forms'
import { Alert, Csrf, Field, Layout, Notice } from './layout'
import { type ConsoleEnv } from './session'

function Snippet(p: { origin: string; siteKey: string }) {
  const snippet = `<script>window.segue=window.segue||function(){(segue.q=segue.q||[]).push(arguments)}</script>\n<script async src="${p.origin}/sdk.js" data-site="${p.siteKey}"></script>`
  return (
    <div class="card">
      <h2 id="install">Install on your site</h2>
      <p>Paste this before the closing <code>&lt;/head&gt;</code> tag of every page.</p>
      <pre id="snippet">{snippet}</pre>
      <button type="button" data-copy="snippet" class="secondary">Copy snippet</button>
      <span role="status" aria-live="polite" data-copied="snippet" />
    </div>
  )
}

type Counts = Record<string, Record<string, { last7: number; last30: number }>>

function group(rows: Array<{ key: string; action: string; last7: number; last30: number }>): Counts {
  const out: Counts = {}
  for (const r of rows) (out[r.key] ??= {})[r.action] = { last7: r.last7, last30: r.last30 }
  return out
}

function CountsTable(p: { caption: string; rows: Array<{ id: string; name: string }>; counts: Counts; empty: string }) {
  const cell = (id: string, action: string, span: 'last7' | 'last30') => p.counts[id]?.[action]?.[span] ?? 0
  return (
    <div class="card" style="overflow-x:auto">
      <table>
        <caption style="text-align:left;font-weight:700;padding-bottom:8px">{p.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            {['Shown', 'Clicked', 'Closed'].map((a) => (
              <>
                <th scope="col" class="num">{a} 7 days</th>
                <th scope="col" class="num">{a} 30 days</th>
              </>
            ))}
          </tr>
        </thead>
        <tbody>
          {p.rows.length === 0 && (
            <tr>
              <td colspan={7}>{p.empty}</td>
            </tr>
          )}
          {p.rows.map((r) => (
            <tr>
              <th scope="row">{r.name}</th>
              {['shown', 'clicked', 'closed'].map((a) => (
                <>
                  <td class="num">{cell(r.id, a, 'last7')}</td>
                  <td class="num">{cell(r.id, a, 'last30')}</td>
                </>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

const originsForm = z.object({ allowedOrigins: z.string().max(5000) })

export const siteRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const sites = await listSites(c.env.DB)
    if (sites.length === 1) return c.redirect(`/admin/sites/${sites[0].id}`, 303)
    return c.html(<SitesPage sites={sites} csrf={c.get('session').csrf} />)
  })
  .get('/sites', async (c) => c.html(<SitesPage sites={await listSites(c.env.DB)} csrf={c.get('session').csrf} />))
  .get('/sites/go', (c) => c.redirect(`/admin/sites/${encodeURIComponent(c.req.query('site') ?? '')}`, 303))
  .post('/sites', async (c) => {
    const form = await c.req.parseBody()
    const r = siteCreate.safeParse({ name: text(form, 'name'), allowedOrigins: lines(text(form, 'allowedOrigins')) })
    const sites = await listSites(c.env.DB)
    if (!r.success) return c.html(<SitesPage sites={sites} csrf={c.get('session').csrf} errors={{ message: describeIssues(r.error.issues), fields: {} }} />, 400)
    try {
      const site = await createSite(c.env.DB, r.data)
      await publishSiteConfig(c.env, site.id)
      return c.redirect(`/admin/sites/${site.id}`, 303)
    } catch (err) {
      return c.html(<SitesPage sites={sites} csrf={c.get('session').csrf} errors={await errorsOf(err)} />, 400)
    }
  })

/** Routes under /admin/sites/:site (the site is loaded already). */
export const overviewRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const now = Date.now()
    const [sites, workflows, content, byWorkflow, byContent] = await Promise.all([
      listSites(c.env.DB),
      allWorkflows(c.env.DB, site.id),
      allContent(c.env.DB, site.id),
      contentCounts(c.env.DB, site.id, 'workflow', now),
      contentCounts(c.env.DB, site.id, 'content', now),
    ])
    const saved = c.req.query('saved') === '1'
    const origin = new URL(c.req.url).origin
    return c.html(
      <Layout title={`${site.name} overview`} csrf={c.get('session').csrf} site={site} sites={sites} active="overview">
        <h1>{site.name}</h1>
        <Notice message={saved ? 'Allowed origins saved.' : undefined} />
        <h2>Last 7 and 30 days</h2>
        <CountsTable caption="Workflows" rows={workflows} counts={group(byWorkflow)} empty="No workflows yet." />
        <CountsTable caption="Content" rows={content} counts={group(byContent)} empty="No content yet." />
        <Snippet origin={origin} siteKey={site.key} />
        <OriginsForm csrf={c.get('session').csrf} siteId={site.id} origins={site.allowedOrigins} />
      </Layout>,
    )
  })
  .post('/origins', async (c) => {
    const site = c.get('site')
    const form = originsForm.parse(await c.req.parseBody())
    try {
      await updateSite(c.env.DB, site, { allowedOrigins: lines(form.allowedOrigins) })
      return c.redirect(`/admin/sites/${site.id}?saved=1`, 303)
    } catch (err) {
      const errors = await errorsOf(err)
      return c.html(
        <Layout title="Allowed origins" csrf={c.get('session').csrf} site={site} active="overview">
          <h1>Allowed origins</h1>
          <OriginsForm csrf={c.get('session').csrf} siteId={site.id} origins={lines(form.allowedOrigins)} error={errors.fields.allowedOrigins ?? errors.message} />
        </Layout>,
        400,
      )
    }
  })

function lines(s: string): string[] {
  return s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean)
}

function OriginsForm(p: { csrf: string; siteId: string; origins: string[]; error?: string }) {
  return (
    <form method="post" action={`/admin/sites/${p.siteId}/origins`} class="card">
      <h2>Allowed origins</h2>
      <Csrf token={p.csrf} />
      <Field
        name="allowedOrigins"
        label="Origins that may send events (one per line)"
        textarea
        value={p.origins.join('\n')}
        hint="For example https://shop.example — scheme, host and port only."
        error={p.error}
      />
      <button type="submit">Save origins</button>
    </form>
  )
}

function SitesPage(p: { sites: Site[]; csrf: string; errors?: FormErrors }) {
  return (
    <Layout title="Sites" csrf={p.csrf} sites={p.sites} active="sites">
      <h1>Sites</h1>
      <div class="card">
        {p.sites.length === 0 ? (
          <p>No sites yet: create the first one below.</p>
        ) : (
          <ul>
            {p.sites.map((s) => (
              <li>
                <a href={`/admin/sites/${s.id}`}>{s.name}</a> <code>{s.key}</code>
              </li>
            ))}
          </ul>
        )}
      </div>
      <form method="post" action="/admin/sites" class="card">
        <h2>Create a site</h2>
        <Alert message={p.errors?.message} />
        <Csrf token={p.csrf} />
        <Field name="name" label="Name" required error={p.errors?.fields.name} />
        <Field name="allowedOrigins" label="Allowed origins (one per line)" textarea error={p.errors?.fields.allowedOrigins} />
        <button type="submit">Create site</button>
      </form>
    </Layout>
  )
}
