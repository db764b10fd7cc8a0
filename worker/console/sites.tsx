/**
 * The console's site pages: the list of sites and the form that creates one, and a site's overview —
 * content counts for 7 and 30 days, messages not written, the install snippet, the forms for its
 * allowed origins, identity secret, limits and data retention, and the data shards it is on.
 */
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import { type SiteShard, siteShards } from '../background/move'
import { allContent } from '../data/content'
import { countDeadLetters } from '../data/dead-letters'
import { attributionOf, contentCounts } from '../data/reports'
import { DEFAULT_RETENTION_DAYS, type RateLimitTier, type Site } from '../data/sites'
import { allWorkflows } from '../data/workflows'
import { RETENTION_MAX_DAYS, RETENTION_MIN_DAYS, siteCreate, sitePatch } from '../sites/schema'
import { createSite, rotateIdentitySecret, updateSite } from '../sites/service'
import { refuse } from '../http/errors'
import { describeIssues, issuesOf } from '../http/validate'
import { type FormErrors, errorsOf, fieldErrorsOf, text } from './forms'
import { Alert, Badge, Csrf, EmptyState, Field, type LinkTo, Notice, PageHeader, allSites, when } from './layout'
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

function CountsTable(p: { caption: string; rows: Array<{ id: string; name: string }>; counts: Counts; empty: string; emptyText: string; emptyAction: LinkTo }) {
  const cell = (id: string, action: string, span: 'last7' | 'last30') => p.counts[id]?.[action]?.[span] ?? 0
  const title = `counts-${p.caption.toLowerCase()}`
  if (p.rows.length === 0) {
    return (
      <div class="card table-card">
        <h3 class="table-title">{p.caption}</h3>
        <EmptyState title={p.empty} action={p.emptyAction}>{p.emptyText}</EmptyState>
      </div>
    )
  }
  return (
    <div class="card table-card">
      <h3 class="table-title" id={title}>{p.caption}</h3>
      <div class="table-scroll" role="region" tabindex={0} aria-labelledby={title}>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              {['Shown', 'Clicked', 'Closed', 'Converted', 'Revenue'].map((a) => (
                <>
                  <th scope="col" class="num">{a} 7 days</th>
                  <th scope="col" class="num">{a} 30 days</th>
                </>
              ))}
            </tr>
          </thead>
          <tbody>
            {p.rows.map((r) => (
              <tr>
                <th scope="row">{r.name}</th>
                {['shown', 'clicked', 'closed', 'converted', 'revenue'].map((a) => (
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
    </div>
  )
}

/** A size in bytes as people read it: 1.2 MB. */
function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

function ShardsCard(p: { site: Site; shards: SiteShard[] }) {
  const name = (s: string) => (s === 'DB' ? 'DB (the control database)' : s)
  return (
    <div class="card" id="shards">
      <h2>Data shards</h2>
      <p>
        The D1 databases this site's contacts and activities live on
        {p.site.movingTo ? <>; it is <strong>moving to {p.site.movingTo.map(name).join(', ')}</strong>, and its visits are written once it has arrived</> : ''}.
        An operator moves a site to other shards with <code>npm run site:move</code> (scripts/site-move.mjs).
      </p>
      <div class="table-scroll" role="region" tabindex={0} aria-label="Data shards">
        <table>
          <thead>
            <tr>
              <th scope="col">Shard</th>
              <th scope="col" class="num">Size of the database</th>
              <th scope="col" class="num">This site's contacts</th>
            </tr>
          </thead>
          <tbody>
            {p.shards.map((s) => (
              <tr>
                <th scope="row">
                  <code>{name(s.name)}</code>
                  {s.moving && !s.placed ? ' (moving to)' : s.placed && p.site.movingTo && !s.moving ? ' (moving from)' : ''}
                </th>
                <td class="num">{formatBytes(s.bytes)}</td>
                <td class="num">{s.contacts.toLocaleString('en')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}

const originsForm = z.object({ allowedOrigins: z.string().max(5000) })

const SAVED: Record<string, string> = { identity: 'Identity settings saved.', limits: 'Limits saved.', retention: 'Data retention saved.', campaigns: 'Campaign settings saved.' }

/** How a site's server signs a visitor's email, for the page that shows a new secret. */
const SIGNING_EXAMPLE = `// On your server (Node.js), for the visitor who is signed in:
import { createHmac } from 'node:crypto'
const t = Math.floor(Date.now() / 1000)
const email = user.email.trim().toLowerCase()
const signature = t + '.' + createHmac('sha256', IDENTITY_SECRET).update(t + '.email.' + email).digest('hex')
// In the page: segue('identify', { email, signature })`

function IdentityCard(p: { csrf: string; site: Site }) {
  const base = `/admin/sites/${p.site.id}`
  return (
    <div class="card" id="identity">
      <h2>Signed identity {p.site.trustUnsignedIdentify ? <Badge tone="danger">unsigned trusted</Badge> : <Badge tone="ok">signatures required</Badge>}</h2>
      <p>
        Your server signs the email (or external id) of the visitor who is signed in with this site's identity secret,
        and the page passes the signature: <code>segue('identify', {'{ email, signature }'})</code>. Only a signed identify
        reaches an existing contact; without a signature, an email is kept on the visitor's own contact as an unverified
        claim.
      </p>
      <details>
        <summary>How your server signs (Node.js; PHP and Python in the identity guide, docs/identity.md)</summary>
        <pre>{SIGNING_EXAMPLE}</pre>
      </details>
      <p>
        Identity secret ending in <code>…{p.site.identitySecret.slice(-4)}</code>, created {when(p.site.identitySecretCreatedAt)}.
      </p>
      <p><a class="button secondary" href={`${base}/identity-secret`}>Rotate secret…</a></p>
      <form method="post" action={`${base}/identity`}>
        <Csrf token={p.csrf} />
        <label class="check">
          <input type="checkbox" name="trustUnsignedIdentify" value="on" checked={p.site.trustUnsignedIdentify} aria-describedby="trust-hint" /> Trust unsigned identify
        </label>
        <p class="hint" id="trust-hint">
          Believes any email or external id a page sends, as if your server had signed it: anyone who knows a customer's
          email can then become that customer here. Only for sites that cannot sign yet.
        </p>
        <button type="submit" class="secondary">Save</button>
      </form>
    </div>
  )
}

const TIERS: Record<RateLimitTier, string> = {
  strict: 'Strict: 60 requests a minute per visitor, 200 every 10 seconds for the site',
  standard: 'Standard: 120 requests a minute per visitor, 1,000 every 10 seconds for the site',
  relaxed: 'Relaxed: 600 requests a minute per visitor, 5,000 every 10 seconds for the site',
}

function LimitsCard(p: { csrf: string; site: Site; errors?: FormErrors }) {
  const l = p.site.limits
  return (
    <form method="post" action={`/admin/sites/${p.site.id}/limits`} class="card" id="limits">
      <h2>Limits of the public endpoint</h2>
      <Alert message={p.errors?.message} />
      <Csrf token={p.csrf} />
      <div class="field">
        <label for="f-rate">Request rates</label>
        <select id="f-rate" name="rate" aria-describedby="f-rate-hint">
          {(Object.keys(TIERS) as RateLimitTier[]).map((t) => <option value={t} selected={l.rate === t}>{TIERS[t]}</option>)}
        </select>
        <div class="hint" id="f-rate-hint">Past them a visitor's browser is asked to wait (429). Browsing a site never comes near them.</div>
      </div>
      <Field name="eventBytes" label="Largest event stored (bytes)" type="number" value={String(l.eventBytes)} hint="512 to 16,384. A page visit with long addresses is about 2,000." error={p.errors?.fields.eventBytes} />
      <Field name="contactBytesPerDay" label="What one visitor may store a day (bytes)" type="number" value={String(l.contactBytesPerDay)} hint="16,384 to 16,777,216; past it, that visitor's events wait until midnight UTC." error={p.errors?.fields.contactBytesPerDay} />
      <button type="submit">Save limits</button>
    </form>
  )
}

const RETENTION_BOUNDS = `${RETENTION_MIN_DAYS} to ${RETENTION_MAX_DAYS.toLocaleString('en')} days; the default, ${DEFAULT_RETENTION_DAYS}, is 13 months.`

function RetentionCard(p: { csrf: string; site: Site; values?: Record<string, string>; errors?: FormErrors }) {
  const r = p.site.retention
  return (
    <form method="post" action={`/admin/sites/${p.site.id}/retention`} class="card" id="retention">
      <h2>Data retention</h2>
      <Alert message={p.errors?.message} />
      <Csrf token={p.csrf} />
      <Field
        name="activityDays"
        label="Keep activities for (days)"
        type="number"
        value={p.values?.activityDays ?? String(r.activityDays)}
        hint={`What visitors did (page visits, purchases, clicks) is deleted once it is older than this. A segment can look back at most this far ("visited in the last 30 days" needs 30). A condition with no time limit, such as "purchased at least 3 times", counts only what is still kept. ${RETENTION_BOUNDS}`}
        error={p.errors?.fields.activityDays}
      />
      <Field
        name="anonymousContactDays"
        label="Keep anonymous visitors for (days)"
        type="number"
        value={p.values?.anonymousContactDays ?? String(r.anonymousContactDays)}
        hint={`A visitor without an email or an external id (one who never signed in) is deleted, with everything about them, once they have not been back for this long; if they come back later, they start afresh. Contacts with an email or an external id stay until you delete them. ${RETENTION_BOUNDS}`}
        error={p.errors?.fields.anonymousContactDays}
      />
      <button type="submit">Save retention</button>
    </form>
  )
}

/** The site's campaign settings: the time zone schedules are read in, fatigue caps, the attribution window. */
function CampaignsCard(p: { csrf: string; site: Site; values?: Record<string, string>; errors?: FormErrors }) {
  const v = p.values ?? {
    timeZone: p.site.timeZone,
    perSession: p.site.fatigue.perSession === null ? '' : String(p.site.fatigue.perSession),
    perDay: p.site.fatigue.perDay === null ? '' : String(p.site.fatigue.perDay),
    attributionDays: String(p.site.attributionDays),
    conversionEvent: p.site.conversion.type === 'custom' ? p.site.conversion.name : '',
  }
  return (
    <form method="post" action={`/admin/sites/${p.site.id}/campaigns`} class="card" id="campaigns">
      <h2>Campaign settings</h2>
      <Alert message={p.errors?.message} />
      <Csrf token={p.csrf} />
      <Field name="timeZone" label="Time zone" value={v.timeZone} hint="An IANA time zone such as Europe/Madrid: workflow and content schedules are read in it." error={p.errors?.fields.timeZone} />
      <Field name="perSession" label="At most, per session (popups and slide-ins)" type="number" value={v.perSession} hint="Empty for no cap. A session ends after 30 minutes without a visit." error={p.errors?.fields.perSession} />
      <Field name="perDay" label="At most, per day (popups and slide-ins)" type="number" value={v.perDay} hint="Empty for no cap. A day is the last 24 hours." error={p.errors?.fields.perDay} />
      <Field name="conversionEvent" label="Conversion event" value={v.conversionEvent} hint="Empty: a purchase converts. Or the name of a custom event your site sends with segue.track, such as signup." error={p.errors?.fields.conversionEvent} />
      <Field name="attributionDays" label="Count a conversion within (days)" type="number" value={v.attributionDays} hint="After a visitor was first shown the content: 1 to 90." error={p.errors?.fields.attributionDays} />
      <button type="submit">Save campaign settings</button>
    </form>
  )
}

export const siteRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const sites = await allSites(c)
    if (sites.length === 1) return c.redirect(`/admin/sites/${sites[0].id}`, 303)
    return sitesPage(c)
  })
  .get('/sites', (c) => sitesPage(c))
  .get('/sites/go', (c) => c.redirect(`/admin/sites/${encodeURIComponent(c.req.query('site') ?? '')}`, 303))
  .post('/sites', async (c) => {
    const form = await c.req.parseBody()
    const r = siteCreate.safeParse({ name: text(form, 'name'), allowedOrigins: lines(text(form, 'allowedOrigins')) })
    if (!r.success) {
      c.status(400)
      return sitesPage(c, { message: describeIssues(r.error.issues), fields: {} })
    }
    try {
      const site = await createSite(c.env, r.data, c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}`, 303)
    } catch (err) {
      c.status(400)
      return sitesPage(c, errorsOf(err, ['name', 'allowedOrigins']))
    }
  })

/** Routes under /admin/sites/:site (the site is loaded already). */
export const overviewRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const now = Date.now()
    const [workflows, content, byWorkflow, byContent, shards] = await Promise.all([
      allWorkflows(c.env.DB, site.id),
      allContent(c.env.DB, site.id),
      contentCounts(c.get('data'), 'workflow', now, attributionOf(site)),
      contentCounts(c.get('data'), 'content', now, attributionOf(site)),
      siteShards(c.env, site),
    ])
    const saved = c.req.query('saved') === '1'
    const notWritten = await countDeadLetters(c.env.DB, site.id)
    const origin = new URL(c.req.url).origin
    return c.render(
      <>
        <PageHeader title={site.name} badge={site.movingTo ? <Badge tone="info">moving</Badge> : undefined}>
          <a class="button secondary" href="#install">Install snippet</a>
        </PageHeader>
        <Notice message={saved ? 'Allowed origins saved.' : SAVED[c.req.query('saved') ?? '']} />
        {notWritten > 0 && (
          <div class="alert" role="alert">
            {notWritten === 1 ? 'One message' : `${notWritten} messages`} could not be written in full.{' '}
            <a href={`/admin/sites/${site.id}/dead-letters`}>Review {notWritten === 1 ? 'it' : 'them'}</a>
          </div>
        )}
        <h2>Last 7 and 30 days</h2>
        <CountsTable
          caption="Workflows"
          rows={workflows}
          counts={group(byWorkflow)}
          empty="No workflows yet."
          emptyText="A workflow decides who sees which content, and when: its counts show here once it runs."
          emptyAction={{ href: `/admin/sites/${site.id}/workflows/new`, label: 'Create workflow' }}
        />
        <CountsTable
          caption="Content"
          rows={content}
          counts={group(byContent)}
          empty="No content yet."
          emptyText="Create a popup, slide-in, bar or inline block, then show it with a workflow."
          emptyAction={{ href: `/admin/sites/${site.id}/content/new`, label: 'Create content' }}
        />
        <Snippet origin={origin} siteKey={site.key} />
        <OriginsForm csrf={c.get('session').csrf} siteId={site.id} origins={site.allowedOrigins} />
        <IdentityCard csrf={c.get('session').csrf} site={site} />
        <LimitsCard csrf={c.get('session').csrf} site={site} />
        <RetentionCard csrf={c.get('session').csrf} site={site} />
        <CampaignsCard csrf={c.get('session').csrf} site={site} />
        <ShardsCard site={site} shards={shards} />
      </>,
      { title: `${site.name} overview`, active: 'overview', picker: true },
    )
  })
  .post('/limits', async (c) => {
    const site = c.get('site')
    const form = await c.req.parseBody()
    const r = sitePatch.shape.limits.unwrap().safeParse({ rate: text(form, 'rate'), eventBytes: Number(text(form, 'eventBytes')), contactBytesPerDay: Number(text(form, 'contactBytesPerDay')) })
    if (!r.success) {
      const errors = fieldErrorsOf(r.error.issues, ['rate', 'eventBytes', 'contactBytesPerDay'])
      c.status(400)
      return c.render(
        <>
          <PageHeader title="Limits" back={{ href: `/admin/sites/${site.id}`, label: site.name }} />
          <LimitsCard csrf={c.get('session').csrf} site={site} errors={errors} />
        </>,
        { title: 'Limits', active: 'overview' },
      )
    }
    await updateSite(c.env.DB, site, { limits: r.data }, c.get('changes'))
    return c.redirect(`/admin/sites/${site.id}?saved=limits#limits`, 303)
  })
  .post('/retention', async (c) => {
    const site = c.get('site')
    const form = await c.req.parseBody()
    const values = { activityDays: text(form, 'activityDays'), anonymousContactDays: text(form, 'anonymousContactDays') }
    const again = (errors: FormErrors) => {
      c.status(400)
      return c.render(
        <>
          <PageHeader title="Data retention" back={{ href: `/admin/sites/${site.id}`, label: site.name }} />
          <RetentionCard csrf={c.get('session').csrf} site={site} values={values} errors={errors} />
        </>,
        { title: 'Data retention', active: 'overview' },
      )
    }
    const r = sitePatch.shape.retention.unwrap().safeParse({ activityDays: Number(values.activityDays), anonymousContactDays: Number(values.anonymousContactDays) })
    if (!r.success) return again(fieldErrorsOf(r.error.issues, ['activityDays', 'anonymousContactDays']))
    try {
      await updateSite(c.env.DB, site, { retention: r.data }, c.get('changes'))
    } catch (err) {
      // A segment that reads further back than the new retention: said beside the activities' field.
      const errors = errorsOf(err, ['retention'])
      return again({ message: errors.message, fields: { activityDays: errors.fields.retention } })
    }
    return c.redirect(`/admin/sites/${site.id}?saved=retention#retention`, 303)
  })
  .post('/campaigns', async (c) => {
    const site = c.get('site')
    const form = await c.req.parseBody()
    const values = { timeZone: text(form, 'timeZone').trim(), perSession: text(form, 'perSession').trim(), perDay: text(form, 'perDay').trim(), attributionDays: text(form, 'attributionDays').trim(), conversionEvent: text(form, 'conversionEvent').trim() }
    const cap = (x: string) => (x === '' ? null : Number(x))
    const conversion = values.conversionEvent === '' || values.conversionEvent === 'purchase' ? { type: 'purchase' } : { type: 'custom', name: values.conversionEvent }
    const r = sitePatch.safeParse({ timeZone: values.timeZone, fatigue: { perSession: cap(values.perSession), perDay: cap(values.perDay) }, attributionDays: Number(values.attributionDays), conversion })
    if (!r.success) {
      c.status(400)
      // A nested issue is said beside its form field: fatigue.perDay at perDay, conversion.name at conversionEvent.
      const at = (path: PropertyKey[]) => (path[0] === 'fatigue' ? path.slice(1) : path[0] === 'conversion' ? ['conversionEvent'] : path)
      const errors = fieldErrorsOf(r.error.issues.map((i) => ({ ...i, path: at(i.path) })), ['timeZone', 'perSession', 'perDay', 'attributionDays', 'conversionEvent'])
      return c.render(
        <>
          <PageHeader title="Campaign settings" back={{ href: `/admin/sites/${site.id}`, label: site.name }} />
          <CampaignsCard csrf={c.get('session').csrf} site={site} values={values} errors={errors} />
        </>,
        { title: 'Campaign settings', active: 'overview' },
      )
    }
    await updateSite(c.env.DB, site, r.data, c.get('changes'))
    return c.redirect(`/admin/sites/${site.id}?saved=campaigns#campaigns`, 303)
  })
  .post('/identity', async (c) => {
    const site = c.get('site')
    const form = await c.req.parseBody()
    await updateSite(c.env.DB, site, { trustUnsignedIdentify: form.trustUnsignedIdentify === 'on' }, c.get('changes'))
    return c.redirect(`/admin/sites/${site.id}?saved=identity#identity`, 303)
  })
  .get('/identity-secret', (c) => {
    const site = c.get('site')
    return c.render(
      <>
        <PageHeader title="Rotate the identity secret?" back={{ href: `/admin/sites/${site.id}#identity`, label: site.name }} />
        <form method="post" class="card">
          <Csrf token={c.get('session').csrf} />
          <p>
            A new secret replaces <code>…{site.identitySecret.slice(-4)}</code> at once: signatures made with the old one stop
            being accepted, and until your servers sign with the new one, identifies are kept as unverified claims. The new
            secret is shown once.
          </p>
          <div class="button-row">
            <button type="submit" class="danger">Rotate secret</button>
            <a class="button secondary" href={`/admin/sites/${site.id}#identity`}>Cancel</a>
          </div>
        </form>
      </>,
      { title: 'Rotate the identity secret', active: 'overview' },
    )
  })
  .post('/identity-secret', async (c) => {
    const site = await rotateIdentitySecret(c.env.DB, c.get('site'), c.get('changes'))
    c.header('cache-control', 'no-store')
    return c.render(
      <>
        <PageHeader title="New identity secret" back={{ href: `/admin/sites/${site.id}#identity`, label: site.name }} />
        <div class="card">
          <Notice message="The secret was rotated. Copy it now: it will not be shown again." />
          <pre id="secret">{site.identitySecret}</pre>
          <button type="button" data-copy="secret" class="secondary">Copy secret</button>
          <span role="status" aria-live="polite" data-copied="secret" />
          <p>Keep it on your servers only (an environment variable, a secrets manager): never in a page or an app.</p>
          <pre>{SIGNING_EXAMPLE}</pre>
          <p><a href={`/admin/sites/${site.id}#identity`}>Back to the overview</a></p>
        </div>
      </>,
      { title: 'New identity secret', active: 'overview' },
    )
  })
  .post('/origins', async (c) => {
    const site = c.get('site')
    const form = originsForm.parse(await c.req.parseBody())
    try {
      // The same door as the API's: origins are checked and kept as a browser sends them.
      const patch = sitePatch.safeParse({ allowedOrigins: lines(form.allowedOrigins) })
      if (!patch.success) throw refuse('invalid', 'invalid_request', describeIssues(patch.error.issues), issuesOf(patch.error.issues))
      await updateSite(c.env.DB, site, patch.data, c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}?saved=1`, 303)
    } catch (err) {
      const errors = errorsOf(err)
      c.status(400)
      return c.render(
        <>
          <PageHeader title="Allowed origins" back={{ href: `/admin/sites/${site.id}`, label: site.name }} />
          <OriginsForm csrf={c.get('session').csrf} siteId={site.id} origins={lines(form.allowedOrigins)} error={errors.fields.allowedOrigins ?? errors.message} />
        </>,
        { title: 'Allowed origins', active: 'overview' },
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

async function sitesPage(c: Context<ConsoleEnv>, errors?: FormErrors) {
  const sites = await allSites(c)
  return c.render(
    <>
      <PageHeader title="Sites">
        <a class="button" href="#create-site">Create a site</a>
      </PageHeader>
      <div class="card">
        {sites.length === 0 ? (
          <EmptyState title="No sites yet" action={{ href: '#create-site', label: 'Create the first site' }}>
            A site is one website or shop: its contacts, segments, content and workflows. Create the first one below, then install its snippet.
          </EmptyState>
        ) : (
          <ul class="site-list">
            {sites.map((s) => (
              <li>
                <a href={`/admin/sites/${s.id}`}>{s.name}</a> <code>{s.key}</code>
                {s.movingTo && <Badge tone="info">moving</Badge>}
                {s.trustUnsignedIdentify && <Badge tone="danger">trusts unsigned identify</Badge>}
              </li>
            ))}
          </ul>
        )}
      </div>
      <form method="post" action="/admin/sites" class="card" id="create-site">
        <h2>Create a site</h2>
        <Alert message={errors?.message} />
        <Csrf token={c.get('session').csrf} />
        <Field name="name" label="Name" required error={errors?.fields.name} />
        <Field name="allowedOrigins" label="Allowed origins (one per line)" textarea error={errors?.fields.allowedOrigins} />
        <button type="submit">Create site</button>
      </form>
    </>,
    { title: 'Sites', active: 'sites', picker: true },
  )
}
