/**
 * The console's page frame and small shared pieces: navigation, page headers with their actions, form
 * fields with their errors, status badges, empty states, tables and segment type icons. Everything passes through Hono's JSX, which escapes text, so a value a visitor sent (a URL,
 * a title, a field) is always shown as text.
 */
import { type Context } from 'hono'
import { type Child } from 'hono/jsx'
import { jsxRenderer } from 'hono/jsx-renderer'
import { type Site, listSites } from '../data/sites'
import { type ConsoleEnv } from './session'

export const DOCTYPE = '<!doctype html>'

type Section = 'overview' | 'segments' | 'contacts' | 'content' | 'workflows' | 'sites'

/** What a page says about itself; the frame finds the rest (session, site, sites) in the request. */
export interface PageProps {
  title: string
  active?: Section
  scripts?: string[]
  /** Page stylesheets served as /console/<name>.css, loaded after console.css so they can use its variables. */
  styles?: string[]
  /** Offers the header's site picker: on the pages one moves between sites from (lists, overviews). */
  picker?: boolean
}

declare module 'hono' {
  interface ContextRenderer {
    (content: string | Promise<string>, props: PageProps): Response | Promise<Response>
  }
}

export interface LayoutProps extends Omit<PageProps, 'picker'> {
  csrf?: string
  /** The email of whoever Cloudflare Access signed in; a session started with the admin token has none. */
  who?: string
  site?: Site
  sites?: Site[]
  children?: Child
}

const SECTIONS = [
  ['overview', 'Overview', ''],
  ['segments', 'Segments', '/segments'],
  ['contacts', 'Contacts', '/contacts'],
  ['content', 'Content', '/content'],
  ['workflows', 'Workflows', '/workflows'],
] as const

/** The page frame, without its doctype (the renderer and `consoleNotFound` put it in front). */
export function Layout(p: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{p.title} · Segue</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/console/console.css" />
        {(p.styles ?? []).map((s) => <link rel="stylesheet" href={`/console/${s}.css`} />)}
        {p.csrf && <meta name="csrf-token" content={p.csrf} />}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/admin">Segue</a>
          {p.site && (
            <nav aria-label="Site sections">
              <ul>
                {SECTIONS.map(([key, label, path]) => (
                  <li>
                    <a href={`/admin/sites/${p.site!.id}${path}`} aria-current={p.active === key ? 'page' : undefined}>{label}</a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {p.sites && p.sites.length > 0 && (
            <form method="get" action="/admin/sites/go">
              <label class="sr-only" for="site-picker">Site</label>
              <select id="site-picker" name="site" data-autosubmit>
                {p.sites.map((s) => <option value={s.id} selected={s.id === p.site?.id}>{s.name}</option>)}
              </select>
              <noscript><button type="submit" class="secondary">Open</button></noscript>
            </form>
          )}
          {p.csrf && <a class="api-link" href="/admin/api">API<span class="api-more"> reference</span></a>}
          {p.who && <span class="who">{p.who}</span>}
          {p.csrf && (
            <form method="post" action="/admin/sign-out">
              <input type="hidden" name="_csrf" value={p.csrf} />
              <button type="submit" class="secondary">Sign out</button>
            </form>
          )}
        </header>
        <main id="main" tabindex={-1}>
          {p.site?.trustUnsignedIdentify && (
            <div class="alert" role="alert">
              {p.site.name} trusts unsigned identify: anyone who knows a customer's email can become that customer on this
              site. <a href={`/admin/sites/${p.site.id}#identity`}>Sign identities and turn this off</a>.
            </div>
          )}
          {p.children}
        </main>
        <script src="/console/common.js" defer />
        {(p.scripts ?? []).map((s) => <script src={`/console/${s}.js`} defer />)}
      </body>
    </html>
  )
}

/**
 * Every site, read from D1 at most once per request: the sites page lists them and the picker offers them.
 *
 * @example
 * const sites = await allSites(c)
 */
export function allSites(c: Context<ConsoleEnv>): Promise<Site[]> {
  let sites = c.get('sites')
  if (!sites) c.set('sites', (sites = listSites(c.env.DB)))
  return sites
}

/**
 * Puts every console page in the Layout: a handler gives the content and its `PageProps`, and the frame
 * takes the session's CSRF token (and the email of whoever Access signed in), the route's site and, where
 * the picker shows, the sites. Before sign-in there is no session, so no token and no sign-out form.
 *
 * @example
 * consoleApp.use('*', consoleLayout)
 * return c.render(<PageHeader title="Segments" />, { title: 'Segments', active: 'segments', picker: true })
 */
export const consoleLayout = jsxRenderer(
  async ({ children, title, active, scripts, styles, picker }, c: Context<ConsoleEnv>) => (
    <Layout title={title} csrf={c.get('session')?.csrf} who={c.get('session')?.email} site={c.get('site')} sites={picker ? await allSites(c) : undefined} active={active} scripts={scripts} styles={styles}>
      {children}
    </Layout>
  ),
  { docType: DOCTYPE },
)

export function Csrf(p: { token: string }) {
  return <input type="hidden" name="_csrf" value={p.token} />
}

/** A labelled input with its hint and error, tied together for screen readers. */
export function Field(p: { name: string; label: string; value?: string; type?: string; error?: string; hint?: string; required?: boolean; textarea?: boolean; placeholder?: string }) {
  const id = `f-${p.name}`
  const described = [p.hint && `${id}-hint`, p.error && `${id}-error`].filter(Boolean).join(' ') || undefined
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      {p.textarea ? (
        // HTML drops one newline right after <textarea>: one is written first so a value's own survives.
        <textarea id={id} name={p.name} aria-invalid={p.error ? 'true' : undefined} aria-describedby={described} required={p.required}>{`\n${p.value ?? ''}`}</textarea>
      ) : (
        <input id={id} name={p.name} type={p.type ?? 'text'} value={p.value ?? ''} aria-invalid={p.error ? 'true' : undefined} aria-describedby={described} required={p.required} placeholder={p.placeholder} />
      )}
      {p.hint && <div class="hint" id={`${id}-hint`}>{p.hint}</div>}
      {p.error && <div class="error" id={`${id}-error`}>{p.error}</div>}
    </div>
  )
}

export function SegmentType(p: { type: 'static' | 'dynamic' }) {
  return (
    <span class="type">
      <span class={`dot ${p.type}`} aria-hidden="true" />
      <span>{p.type === 'dynamic' ? 'Dynamic' : 'Static'}</span>
      <span class="sr-only"> segment</span>
    </span>
  )
}

export function Alert(p: { message?: string }) {
  return p.message ? <div class="alert" role="alert">{p.message}</div> : null
}

export function Notice(p: { message?: string }) {
  return p.message ? <div class="notice" role="status">{p.message}</div> : null
}

/** Data for a page script, as JSON in a <script type="application/json"> (escaped so it cannot end the tag). */
export function PageData(p: { id: string; data: unknown }) {
  const json = JSON.stringify(p.data).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
  return <script type="application/json" id={p.id} dangerouslySetInnerHTML={{ __html: json }} />
}

/** A link to where a page was reached from, or to what it leads on to. */
export interface LinkTo {
  href: string
  label: string
}

/**
 * A page's title with where it came from and what one does there: the optional back link, the `<h1>`
 * (a badge, when given, beside it rather than in it) and the page's actions — the primary one a plain
 * `.button`, the others `.secondary` — to the title's right on a wide screen, under it on a narrow one.
 *
 * @example
 * <PageHeader title="Segments"><a class="button" href="segments/new">Create new segment</a></PageHeader>
 */
export function PageHeader(p: { title: Child; back?: LinkTo; badge?: Child; children?: Child }) {
  return (
    <header class="page-header">
      {p.back && <a class="back" href={p.back.href}>← {p.back.label}</a>}
      <div class="page-title">
        <h1>{p.title}</h1>
        {p.badge}
      </div>
      {p.children && <div class="page-actions">{p.children}</div>}
    </header>
  )
}

/** Tones a status takes: ok (active, finished), warn (paused, unverified, held), danger, info (in progress), muted. */
export type Tone = 'ok' | 'warn' | 'danger' | 'info' | 'muted'

/**
 * A short status beside what it describes. The tone gives its colour; its words say the status, so the
 * colour is never the only sign.
 *
 * @example
 * <Badge tone="warn" title="Given by a browser without a signature">unverified</Badge>
 */
export function Badge(p: { tone: Tone; title?: string; id?: string; children: Child }) {
  return <span class={`badge ${p.tone}`} title={p.title} id={p.id}>{p.children}</span>
}

/**
 * What a page or list shows when it has nothing yet: what is missing, what to do about it, and a link to
 * do it.
 *
 * @example
 * <EmptyState title="No segments yet" action={{ href: 'segments/new', label: 'Create a segment' }}>Group contacts…</EmptyState>
 */
export function EmptyState(p: { title: string; children?: Child; action?: LinkTo }) {
  return (
    <div class="empty-state">
      <p class="empty-title">{p.title}</p>
      {p.children && <p class="empty-text">{p.children}</p>}
      {p.action && <a class="button" href={p.action.href}>{p.action.label}</a>}
    </div>
  )
}

export interface TableProps {
  columns: Array<string | { label: string; num?: boolean; hidden?: boolean }>
  /** The empty state's title: what is missing ("No segments match."). */
  empty: string
  /** The empty state's words on what to do next. */
  emptyText?: Child
  /** The empty state's link to do it. */
  emptyAction?: LinkTo
  /** The table's name for screen readers, as its scrolling box is one stop of the keyboard. */
  label?: string
  next?: string
  children?: Child
}

/**
 * A table in a card: column headings, rows, and a link to the next page; with no rows, the empty state
 * alone (in a bare body, so the card stays as wide as the screen and scripts still find the table's body).
 * A table wider than the screen scrolls inside its card, never the page; the card takes the keyboard so
 * it can be scrolled without a mouse.
 */
export function Table(p: TableProps) {
  const rows = Array.isArray(p.children) ? p.children.flat() : p.children ? [p.children] : []
  const columns = p.columns.map((col) => (typeof col === 'string' ? { label: col } : col))
  return (
    <div class="card table-card">
      <div class="table-scroll" role="region" tabindex={0} aria-label={p.label ?? columns.map((c) => c.label).join(', ')}>
        <table>
          {rows.length > 0 && (
            <thead>
              <tr>
                {columns.map((c) => <th scope="col" class={c.num ? 'num' : undefined}>{c.hidden ? <span class="sr-only">{c.label}</span> : c.label}</th>)}
              </tr>
            </thead>
          )}
          <tbody>
            {rows.length === 0 ? (
              <tr class="empty-row">
                <td colspan={columns.length}>
                  <EmptyState title={p.empty} action={p.emptyAction}>{p.emptyText}</EmptyState>
                </td>
              </tr>
            ) : (
              rows
            )}
          </tbody>
        </table>
      </div>
      {p.next && <p class="table-next"><a href={p.next}>Next page</a></p>}
    </div>
  )
}

/** A field's label as a heading: its first letter in capitals. */
export const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

export const when = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—')
