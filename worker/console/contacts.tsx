/**
 * The console's contact pages: search, a profile (fields, identifiers kept from merges, segments and why
 * the contact meets each dynamic one, activity), and forms to edit, export, merge and delete a contact;
 * CSV imports (imports.tsx) and exports of a search or of a segment's members.
 */
import { type Context, Hono } from 'hono'
import { type ClauseExplanation } from '../segments/service'
import { FieldCatalog, SYSTEM_FIELDS, isSystemField } from '../conditions/fields'
import { contactsCsv, csvHeaders } from '../contacts/export'
import { contactExport, contactJson, contactSegments, eraseContact, mergeContactInto, saveContact } from '../contacts/service'
import { type Contact, getContact, searchAcross } from '../data/contacts'
import { listActivities } from '../data/events'
import { keptIdentifiersOf } from '../data/identities'
import { aliasesOf } from '../data/merge'
import { allSegments } from '../data/segments'
import { encodeCursor } from '../lib/cursor'
import { Refusal } from '../http/errors'
import { addToStaticSegment, explainSegments, removeFromStaticSegment } from '../segments/service'
import { type FormErrors, cursorOf, errorsOf, messageOf, text } from './forms'
import { importPages } from './imports'
import { Alert, Badge, Csrf, EmptyState, Field, Notice, PageHeader, SegmentType, Table, capitalized, when } from './layout'
import { type ConsoleEnv } from './session'

const EDITABLE = ['firstName', 'lastName', 'birthDate', 'gender', 'country', 'city', 'phone', 'newsletter', 'language'] as const

function displayName(c: Contact): string {
  return [c.fields.firstName, c.fields.lastName].filter(Boolean).join(' ') || c.email || c.id
}

/** An email or external id, marked when a browser gave it without a signature. */
function Identifier(p: { verified: string | null; claimed: string | null }) {
  if (p.verified === null && p.claimed === null) return <>—</>
  return (
    <>
      {p.verified}
      {p.claimed !== null && p.claimed !== p.verified && (
        <>
          {p.verified !== null && <br />}
          <span data-visitor-text>{p.claimed}</span> <Badge tone="warn" title="Given by a browser without a signature: never used to find or merge this contact">unverified</Badge>
        </>
      )}
    </>
  )
}

/** One explained clause, as the console shows it. */
function Why(p: { e: ClauseExplanation }) {
  const e = p.e
  if (e.children) {
    return (
      <ul>
        {e.children.map((child) => (
          <li><Why e={child} /></li>
        ))}
      </ul>
    )
  }
  const actual = e.actual === null || e.actual === undefined ? 'nothing' : String(e.actual)
  return (
    <span class={e.met ? 'met' : 'unmet'}>
      {e.met ? '✓ ' : '✗ '}
      {e.summary} <span class="hint">(this contact: {actual})</span>
    </span>
  )
}

export const contactRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const q = (c.req.query('q') ?? '').trim().slice(0, 200)
    const after = cursorOf(c.req.query('cursor'), 2) as [number, string] | undefined
    const page = await searchAcross(c.get('data'), { q: q || undefined, after, limit: 25 })
    return c.render(
      <>
        <PageHeader title="Contacts">
          <a class="button" href={`/admin/sites/${site.id}/contacts/imports`}>Import CSV</a>
          <a class="button secondary" href={`/admin/sites/${site.id}/contacts/export.csv${q ? `?${new URLSearchParams({ q })}` : ''}`} download>
            Export CSV<span class="sr-only">{q ? ` of the contacts matching ${q}` : ' of every contact'}</span>
          </a>
        </PageHeader>
        <Notice message={c.req.query('erased') ? 'The contact was deleted with everything Segue kept about it.' : undefined} />
        <form method="get" class="filters card" role="search" aria-label="Search contacts">
          <div>
            <label for="q">Email or name</label>
            <input id="q" name="q" type="search" value={q} />
          </div>
          <div class="shrink"><button type="submit">Search</button></div>
        </form>
        <Table
          columns={['Contact', 'Name', 'Last seen']}
          label="Contacts"
          {...(q || after
            ? { empty: 'No contacts match.', emptyText: 'Search by a part of the email, the first name or the last name.', emptyAction: { href: `/admin/sites/${site.id}/contacts`, label: 'Show every contact' } }
            : { empty: 'No contacts yet', emptyText: 'Contacts appear as visitors browse a site with the snippet installed. Bring in the ones you already know from a CSV file.', emptyAction: { href: `/admin/sites/${site.id}/contacts/imports`, label: 'Import contacts' } })}
          next={page.last && `?${new URLSearchParams({ ...(q ? { q } : {}), cursor: encodeCursor(page.last) })}`}>
          {page.contacts.map((ct) => (
            <tr>
              <td>
                <a href={`/admin/sites/${site.id}/contacts/${ct.id}`}>{ct.email ?? ct.claimedEmail ?? ct.id}</a>
                {ct.email === null && ct.claimedEmail !== null && <> <Badge tone="warn">unverified</Badge></>}
              </td>
              <td>{[ct.fields.firstName, ct.fields.lastName].filter(Boolean).join(' ')}</td>
              <td>{when(ct.lastSeenAt)}</td>
            </tr>
          ))}
        </Table>
      </>,
      { title: 'Contacts', active: 'contacts', picker: true },
    )
  })
  // Before '/:id'. No contact id holds a '.'; the import pages take /contacts/imports, so a contact whose
  // id is 'imports' is only reached through the admin API.
  .route('/imports', importPages)
  // A search's matches (?q=) or a segment's members (?segment=), as the API's export.
  .get('/export.csv', async (c) => {
    const q = (c.req.query('q') ?? '').trim().slice(0, 200)
    try {
      const { stream, filename } = await contactsCsv(c.env, c.get('site'), { segment: c.req.query('segment'), q: q || undefined })
      return c.body(stream, 200, csvHeaders(filename))
    } catch (err) {
      if (err instanceof Refusal && err.kind === 'not_found') return c.notFound()
      throw err
    }
  })
  .get('/:id', async (c) => {
    const site = c.get('site')
    const contact = await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id'))
    if (!contact) return c.notFound()
    return profile(c, contact, { notice: c.req.query('notice'), before: c.req.query('before') })
  })
  .post('/:id/segments', async (c) => {
    const site = c.get('site')
    const id = c.req.param('id')
    const segment = text(await c.req.parseBody(), 'segment')
    try {
      await addToStaticSegment(c.env, site, id, segment, c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/contacts/${id}?notice=added`, 303)
    } catch (err) {
      const contact = await getContact(c.get('data').of(id), site.id, id)
      if (!contact) return c.notFound()
      c.status(400)
      return profile(c, contact, { error: messageOf(err) })
    }
  })
  .post('/:id/segments/:segment/remove', async (c) => {
    const site = c.get('site')
    const id = c.req.param('id')
    try {
      await removeFromStaticSegment(c.env, site, id, c.req.param('segment'), c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/contacts/${id}?notice=removed`, 303)
    } catch (err) {
      const contact = await getContact(c.get('data').of(id), site.id, id)
      if (!contact) return c.notFound()
      c.status(409)
      return profile(c, contact, { error: messageOf(err) })
    }
  })
  .get('/:id/export', async (c) => {
    const site = c.get('site')
    const id = c.req.param('id')
    if (!(await getContact(c.get('data').of(id), site.id, id))) return c.notFound()
    c.header('content-disposition', `attachment; filename="contact-${id}.json"`)
    return c.body(await contactExport(c.env, site, id), 200, { 'content-type': 'application/json; charset=utf-8' })
  })
  .get('/:id/delete', async (c) => {
    const site = c.get('site')
    const contact = await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id'))
    if (!contact) return c.notFound()
    return erasePage(c, contact)
  })
  .post('/:id/delete', async (c) => {
    const site = c.get('site')
    const contact = await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id'))
    if (!contact) return c.notFound()
    await eraseContact(c.env, site, contact.id)
    return c.redirect(`/admin/sites/${site.id}/contacts?erased=1`, 303)
  })
  .get('/:id/merge', async (c) => {
    const site = c.get('site')
    const contact = await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id'))
    if (!contact) return c.notFound()
    const q = (c.req.query('q') ?? '').trim().slice(0, 200)
    const found = q ? (await searchAcross(c.get('data'), { q, limit: 10 })).contacts.filter((x) => x.id !== contact.id) : []
    return mergePage(c, contact, { q, found })
  })
  .post('/:id/merge', async (c) => {
    const site = c.get('site')
    const contact = await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id'))
    if (!contact) return c.notFound()
    const into = text(await c.req.parseBody(), 'into')
    try {
      const survivor = await mergeContactInto(c.env, site, contact.id, into, c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/contacts/${survivor.id}?notice=merged`, 303)
    } catch (err) {
      c.status(400)
      return mergePage(c, contact, { q: '', found: [], error: messageOf(err) })
    }
  })
  .get('/:id/edit', async (c) => {
    const site = c.get('site')
    const contact = await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id'))
    if (!contact) return c.notFound()
    return editPage(c, contact, { values: valuesOf(contact) })
  })
  .post('/:id/edit', async (c) => {
    const site = c.get('site')
    const contact = await getContact(c.get('data').of(c.req.param('id')), site.id, c.req.param('id'))
    if (!contact) return c.notFound()
    const form = await c.req.parseBody()
    const values: Record<string, string> = {}
    for (const k of ['email', 'externalId', ...EDITABLE, ...site.fields.map((f) => f.key)]) values[k] = text(form, k)
    const catalog = new FieldCatalog(site.fields)
    const fields: Record<string, string | number | boolean | null> = {}
    for (const k of [...EDITABLE, ...site.fields.map((f) => f.key)]) {
      const raw = values[k].trim()
      const type = catalog.get(k)?.type
      if (raw === '') fields[k] = null
      else if (type === 'number') fields[k] = Number.isFinite(Number(raw)) ? Number(raw) : raw
      else if (type === 'boolean') fields[k] = raw === 'true'
      else fields[k] = raw
    }
    try {
      await saveContact(c.env, site, { id: contact.id, email: values.email.trim(), externalId: values.externalId.trim(), fields }, 'update', c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/contacts/${contact.id}?notice=saved`, 303)
    } catch (err) {
      c.status(400)
      return editPage(c, contact, { values, errors: errorsOf(err) })
    }
  })

function erasePage(c: Context<ConsoleEnv>, contact: Contact) {
  const site = c.get('site')
  const csrf = c.get('session').csrf
  return c.render(
    <>
      <PageHeader title={`Delete ${displayName(contact)}?`} back={{ href: `/admin/sites/${site.id}/contacts/${contact.id}`, label: displayName(contact) }} />
      <form method="post" class="card">
        <Csrf token={csrf} />
        <p>
          Everything Segue keeps about this contact is erased at once: fields, identifiers, activities, segment
          memberships, workflow counters and the contacts merged into it. Browsers that were this contact become new,
          anonymous visitors. Only the id is remembered, so that visits already on their way cannot bring it back.
          This cannot be undone: <a href={`/admin/sites/${site.id}/contacts/${contact.id}/export`} download>export the data</a> first
          if you need it.
        </p>
        <div class="button-row">
          <button type="submit" class="danger">Delete contact</button>
          <a class="button secondary" href={`/admin/sites/${site.id}/contacts/${contact.id}`}>Cancel</a>
        </div>
      </form>
    </>,
    { title: `Delete ${displayName(contact)}`, active: 'contacts' },
  )
}

function mergePage(c: Context<ConsoleEnv>, contact: Contact, p: { q: string; found: Contact[]; error?: string }) {
  const site = c.get('site')
  const csrf = c.get('session').csrf
  const base = `/admin/sites/${site.id}/contacts/${contact.id}`
  return c.render(
    <>
      <PageHeader title={`Merge ${displayName(contact)} into another contact`} back={{ href: base, label: displayName(contact) }} />
      <div class="card">
        <Alert message={p.error} />
        <p>
          The contact you pick stays. It keeps its own field values and takes this contact's where it has none; it takes
          this contact's activities, static segments and workflow counters; every email and external id of this contact
          stays with it and still finds it, and this contact's own values are kept on the merge record. Browsers that
          were this contact become the one you pick.
        </p>
        <form method="get" class="row" role="search" aria-label="Find the contact to merge into">
          <div>
            <label for="q">Email, name or id of the contact that stays</label>
            <input id="q" name="q" type="search" value={p.q} />
          </div>
          <div class="shrink"><button type="submit" class="secondary">Search</button></div>
        </form>
      </div>
      {p.q && (
        <Table columns={['Contact', 'Name', { label: 'Merge', hidden: true }]} label="Contacts to merge into" empty="No other contact matches." emptyText="Search by a part of the email, the first name or the last name of the contact that stays.">
          {p.found.map((ct) => (
            <tr>
              <td><a href={`/admin/sites/${site.id}/contacts/${ct.id}`}>{ct.email ?? ct.id}</a></td>
              <td>{[ct.fields.firstName, ct.fields.lastName].filter(Boolean).join(' ')}</td>
              <td>
                <form method="post" action={`${base}/merge`}>
                  <Csrf token={csrf} />
                  <input type="hidden" name="into" value={ct.id} />
                  <button type="submit" class="shrink">Merge into this contact<span class="sr-only"> {ct.email ?? ct.id}</span></button>
                </form>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>,
    { title: `Merge ${displayName(contact)}`, active: 'contacts' },
  )
}

function valuesOf(contact: Contact): Record<string, string> {
  const out: Record<string, string> = { email: contact.email ?? '', externalId: contact.externalId ?? '' }
  for (const [k, v] of Object.entries(contact.fields)) out[k] = String(v)
  return out
}

function editPage(c: Context<ConsoleEnv>, contact: Contact, p: { values: Record<string, string>; errors?: FormErrors }) {
  const site = c.get('site')
  const csrf = c.get('session').csrf
  const label = (k: string) => capitalized(isSystemField(k) ? SYSTEM_FIELDS[k].label : k)
  return c.render(
    <>
      <PageHeader title="Edit fields" back={{ href: `/admin/sites/${site.id}/contacts/${contact.id}`, label: displayName(contact) }} />
      <form method="post" class="card">
        <Alert message={p.errors?.message} />
        <Csrf token={csrf} />
        <div class="grid2">
          <div>
            <Field name="email" label="Email" type="email" value={p.values.email} error={p.errors?.fields.email} />
            <Field name="externalId" label="External id" value={p.values.externalId} error={p.errors?.fields.externalId} />
            {EDITABLE.map((k) => (
              <Field
                name={k}
                label={label(k)}
                type={k === 'birthDate' ? 'date' : 'text'}
                value={p.values[k]}
                error={p.errors?.fields[k]}
                hint={k === 'newsletter' ? 'subscribed, unsubscribed or pending' : undefined}
              />
            ))}
          </div>
          <div>
            {site.fields.length === 0 && <p class="hint">This site declares no custom fields.</p>}
            {site.fields.map((f) => (
              <Field
                name={f.key}
                label={f.label ?? f.key}
                type={f.type === 'date' ? 'date' : f.type === 'number' ? 'number' : 'text'}
                value={p.values[f.key]}
                error={p.errors?.fields[f.key]}
                hint={f.type === 'boolean' ? 'true or false' : undefined}
              />
            ))}
          </div>
        </div>
        <button type="submit">Save fields</button>
      </form>
    </>,
    { title: `Edit ${displayName(contact)}`, active: 'contacts' },
  )
}

const NOTICES: Record<string, string> = {
  added: 'Added to the segment.',
  removed: 'Removed from the segment.',
  saved: 'Fields saved.',
  merged: 'Merged: this contact now holds the other one\'s activities, segments and identifiers.',
}

async function profile(c: Context<ConsoleEnv>, contact: Contact, p: { notice?: string; before?: string; error?: string }) {
  const site = c.get('site')
  const csrf = c.get('session').csrf
  const before = cursorOf(p.before, 2) as [number, string] | undefined
  const [memberships, segments, events, kept, merged] = await Promise.all([
    contactSegments(c.env, site, contact.id),
    allSegments(c.env.DB, site.id),
    listActivities(c.get('data').of(contact.id), site.id, contact.id, { before, limit: 26 }),
    keptIdentifiersOf(c.get('data').of(contact.id), site.id, contact.id),
    aliasesOf(c.get('data').of(contact.id), site.id, contact.id),
  ])
  const dynamic = new Set(memberships.filter((m) => m.type === 'dynamic').map((m) => m.id))
  const explanations = await explainSegments(c.get('data').of(contact.id), site, contact, segments, memberships.map((m) => m.id), segments.filter((s) => dynamic.has(s.id)))
  const json = contactJson(contact)
  const memberOf = new Set(memberships.map((m) => m.id))
  const addable = segments.filter((s) => s.type === 'static' && !memberOf.has(s.id))
  const page = events.slice(0, 25)
  const tail = page[page.length - 1]
  return c.render(
    <>
      <PageHeader title={displayName(contact)} back={{ href: `/admin/sites/${site.id}/contacts`, label: 'Contacts' }}>
        <a class="button" href={`/admin/sites/${site.id}/contacts/${contact.id}/edit`}>Edit fields</a>
        <a class="button secondary" href={`/admin/sites/${site.id}/contacts/${contact.id}/export`} download>Export data</a>
        <a class="button secondary" href={`/admin/sites/${site.id}/contacts/${contact.id}/merge`}>Merge into…</a>
        <a class="button secondary" href={`/admin/sites/${site.id}/contacts/${contact.id}/delete`}>Delete…</a>
      </PageHeader>
      <Notice message={p.notice ? NOTICES[p.notice] : undefined} />
      <Alert message={p.error} />
      <div class="grid2">
        <section class="card" aria-labelledby="fields-title">
          <h2 id="fields-title">Fields</h2>
          <table>
            <tbody>
              <tr><th scope="row">Id</th><td><code>{json.id}</code></td></tr>
              <tr><th scope="row">Email</th><td><Identifier verified={json.email} claimed={json.claimedEmail} /></td></tr>
              <tr><th scope="row">External id</th><td><Identifier verified={json.externalId} claimed={json.claimedExternalId} /></td></tr>
              {kept.map((k) => (
                <tr>
                  <th scope="row">Also {k.kind === 'email' ? 'email' : 'external id'}</th>
                  <td>{k.value} {!k.verified && <Badge tone="warn">unverified</Badge>} <span class="hint">kept from a merge</span></td>
                </tr>
              ))}
              {Object.entries(json.fields).map(([k, v]) => (
                <tr><th scope="row">{capitalized(isSystemField(k) ? SYSTEM_FIELDS[k].label : k)}</th><td>{String(v)}</td></tr>
              ))}
              <tr><th scope="row">Created</th><td>{when(contact.createdAt)}</td></tr>
              <tr><th scope="row">Last seen</th><td>{when(contact.lastSeenAt)}</td></tr>
            </tbody>
          </table>
          {merged.length > 0 && (
            <>
              <h3>Merged into this contact</h3>
              <ul class="timeline">
                {merged.map((m) => (
                  <li>
                    <code>{m.id}</code> <span class="hint">{when(m.mergedAt)} · {m.source === 'admin' ? 'by an admin' : 'signed in on a browser'}</span>
                    {m.kept && <div class="hint">Its own values, kept: <code data-visitor-text>{JSON.stringify(m.kept)}</code></div>}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
        <section class="card" aria-labelledby="segments-title">
          <h2 id="segments-title">Segments</h2>
          {memberships.length === 0 && (
            <EmptyState title="Not in any segment.">
              {addable.length > 0 ? 'Add this contact to a static segment below; dynamic segments take it in when it meets their conditions.' : 'Dynamic segments take this contact in when it meets their conditions; static ones, when you add it.'}
            </EmptyState>
          )}
          <ul class="timeline">
            {memberships.map((m) => (
              <li data-membership={m.id}>
                <SegmentType type={m.type} />{' '}
                <a href={`/admin/sites/${site.id}/segments/${m.id}`}>{m.name}</a> <span class="hint">since {m.since.slice(0, 10)} · {m.source}</span>
                {m.type === 'static' ? (
                  <form method="post" action={`/admin/sites/${site.id}/contacts/${contact.id}/segments/${m.id}/remove`}>
                    <Csrf token={csrf} />
                    <button type="submit" class="link">Remove from segment<span class="sr-only"> {m.name}</span></button>
                  </form>
                ) : (
                  <div class="why">
                    <span class="hint">In this segment because its conditions hold; it cannot be removed by hand.</span>
                    {explanations.get(m.id) && <Why e={explanations.get(m.id)!} />}
                  </div>
                )}
              </li>
            ))}
          </ul>
          {addable.length > 0 && (
            <form method="post" action={`/admin/sites/${site.id}/contacts/${contact.id}/segments`} class="row add-segment">
              <Csrf token={csrf} />
              <div>
                <label for="add-segment">Static segment</label>
                <select id="add-segment" name="segment">
                  {addable.map((s) => <option value={s.id}>{s.name}</option>)}
                </select>
              </div>
              <div class="shrink"><button type="submit">Add to Segment</button></div>
            </form>
          )}
        </section>
      </div>
      <section class="card" aria-labelledby="activity-title">
        <h2 id="activity-title">Activity</h2>
        {page.length === 0 && <EmptyState title="No activity yet.">Page visits, purchases and custom events appear here as the snippet sends them.</EmptyState>}
        <ol class="timeline">
          {page.map((e) => (
            <li>
              <strong>{e.type.replace('_', ' ')}</strong> <span class="hint">{when(e.at)}</span>
              <div>
                {e.url && <div>URL: <span data-visitor-text>{e.url}</span></div>}
                {e.title && <div>Title: <span data-visitor-text>{e.title}</span></div>}
                {e.referrer && <div>Referrer: <span data-visitor-text>{e.referrer}</span></div>}
                {e.name && <div>{e.type === 'content' ? 'Action' : 'Name'}: <span data-visitor-text>{e.name}</span></div>}
                {e.contentId && <div>Content: {e.contentId}</div>}
                {e.amountMilli !== undefined && <div>Amount: {e.amountMilli / 1000} {e.currency ?? ''}</div>}
                {e.orderId && <div>Order: <span data-visitor-text>{e.orderId}</span></div>}
                {e.props && Object.keys(e.props).length > 0 && <div>Properties: <code data-visitor-text>{JSON.stringify(e.props)}</code></div>}
              </div>
            </li>
          ))}
        </ol>
        {events.length > 25 && tail && <p><a href={`?before=${encodeCursor([tail.at, tail.id])}`}>Older activity</a></p>}
      </section>
    </>,
    { title: displayName(contact), active: 'contacts', picker: true },
  )
}
