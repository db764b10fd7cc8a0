/**
 * The console's segment pages: the filtered list, a segment with its members, and the forms that create,
 * edit and delete one. A dynamic segment's form holds the condition builder, which counts members live
 * through `/preview`; `builderData` is shared with the workflow builder.
 */
import { segmentTrend, segmentUses } from '../segments/trends'
import { TrendChart } from './trend-chart'
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import { FieldCatalog, SYSTEM_FIELDS } from '../conditions/fields'
import { contactJson } from '../contacts/service'
import { membersAcross } from '../data/members'
import { type Segment, allSegments, getSegment, listSegments } from '../data/segments'
import { type Site } from '../data/sites'
import { Refusal } from '../http/errors'
import { describeIssues, parseBody, readJson } from '../http/validate'
import { encodeCursor } from '../lib/cursor'
import { segmentCreate, segmentPatch } from '../segments/schema'
import { createSegment, previewSegment, removeSegment, segmentWithCount, summarizer, updateSegment, withCounts } from '../segments/service'
import { type FormErrors, cursorOf, errorsOf, fieldErrorsOf, messageOf, text } from './forms'
import { Alert, Csrf, EmptyState, Field, Notice, PageData, PageHeader, SegmentType, Table, when } from './layout'
import { type ConsoleEnv } from './session'

/** What the condition builder needs to offer: every field with its type, and the other segments. */
export function builderData(site: Site, segments: Segment[], selfId?: string) {
  const catalog = new FieldCatalog(site.fields)
  const system = Object.entries(SYSTEM_FIELDS).map(([key, f]) => ({ key, label: f.label, type: f.type }))
  const custom = catalog.customDefinitions().map((d) => ({ key: d.key, label: d.label ?? d.key, type: d.type }))
  return {
    fields: [...system, ...custom],
    segments: segments.filter((s) => s.id !== selfId).map((s) => ({ id: s.id, name: s.name, type: s.type })),
    previewUrl: `/admin/sites/${site.id}/segments/preview`,
    self: selfId ?? null,
  }
}

interface FormValues {
  id?: string
  name: string
  description: string
  type: 'static' | 'dynamic'
  conditions: string
}

function SegmentForm(p: { site: Site; csrf: string; values: FormValues; errors?: FormErrors; action: string; submit: string; segments: Segment[] }) {
  const dynamic = p.values.type === 'dynamic'
  return (
    <form method="post" action={p.action} class="card" id="segment-form">
      <Alert message={p.errors?.message} />
      <Csrf token={p.csrf} />
      <input type="hidden" name="type" value={p.values.type} />
      <p>
        <SegmentType type={p.values.type} />{' '}
        {dynamic ? '— members follow the conditions below, on the spot.' : '— members are added and removed by hand or by workflows.'}
      </p>
      <Field name="name" label="Name" value={p.values.name} required error={p.errors?.fields.name} />
      <Field name="description" label="Description" value={p.values.description} textarea error={p.errors?.fields.description} />
      {dynamic && (
        <fieldset class="field conditions">
          <legend>Conditions</legend>
          <input type="hidden" name="conditions" id="conditions" value={p.values.conditions} />
          <div id="condition-builder" aria-describedby={p.errors?.fields.conditions ? 'conditions-error' : undefined}>
            <noscript>The condition builder needs JavaScript.</noscript>
          </div>
          <div class="live" id="live" role="status" aria-live="polite">Counting members…</div>
          {p.errors?.fields.conditions && <div class="error" id="conditions-error">{p.errors.fields.conditions}</div>}
          <PageData id="builder-data" data={builderData(p.site, p.segments, p.values.id)} />
        </fieldset>
      )}
      <button type="submit">{p.submit}</button>
    </form>
  )
}

const EMPTY_CONDITIONS = JSON.stringify({ all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] })

function readForm(form: Record<string, unknown>): { values: FormValues; parsed?: unknown; error?: string } {
  const type = text(form, 'type') === 'dynamic' ? 'dynamic' : 'static'
  const values: FormValues = { name: text(form, 'name'), description: text(form, 'description'), type, conditions: text(form, 'conditions') }
  if (type === 'static') return { values }
  try {
    // The API's door for JSON: malformed text, NUL and lone surrogates are refused as there.
    return { values, parsed: parseBody(values.conditions || 'null') }
  } catch (err) {
    return { values, error: err instanceof Refusal && err.code !== 'invalid_json' ? err.message : 'The conditions could not be read: reload the page and try again.' }
  }
}

export const segmentRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const type = c.req.query('type') === 'static' || c.req.query('type') === 'dynamic' ? (c.req.query('type') as 'static' | 'dynamic') : undefined
    const q = (c.req.query('q') ?? '').slice(0, 100)
    const after = cursorOf(c.req.query('cursor'), 2) as [string, string] | undefined
    const [listed, all] = await Promise.all([listSegments(c.env.DB, site.id, { type, q: q || undefined, after, limit: 25 }), allSegments(c.env.DB, site.id)])
    const page = { ...listed, segments: await withCounts(c.get('data'), listed.segments) }
    const summary = summarizer(site, all)
    const params = (extra: Record<string, string>) => new URLSearchParams({ ...(type ? { type } : {}), ...(q ? { q } : {}), ...extra }).toString()
    return c.render(
      <>
        <PageHeader title="Segments">
          <a class="button" href={`/admin/sites/${site.id}/segments/new`}>Create new segment</a>
        </PageHeader>
        <form method="get" class="filters card" role="search" aria-label="Filter segments">
          <div>
            <label for="type">Type</label>
            <select id="type" name="type">
              <option value="" selected={!type}>All</option>
              <option value="dynamic" selected={type === 'dynamic'}>Dynamic</option>
              <option value="static" selected={type === 'static'}>Static</option>
            </select>
          </div>
          <div>
            <label for="q">Name</label>
            <input id="q" name="q" type="search" value={q} />
          </div>
          <div class="shrink">
            <button type="submit">Filter</button>
          </div>
        </form>
        <Table
          columns={['Type', 'Name', { label: 'Members', num: true }, 'Conditions']}
          label="Segments"
          {...(type || q || after
            ? { empty: 'No segments match.', emptyText: 'Try another name or type, or clear the filter.', emptyAction: { href: `/admin/sites/${site.id}/segments`, label: 'Show every segment' } }
            : { empty: 'No segments yet', emptyText: 'A segment groups contacts: by conditions on their fields and activities (dynamic), or by hand and by workflows (static). Workflows and content target them.', emptyAction: { href: `/admin/sites/${site.id}/segments/new`, label: 'Create a segment' } })}
          next={page.last && `?${params({ cursor: encodeCursor(page.last) })}`}>
          {page.segments.map((s) => (
            <tr data-segment={s.id}>
              <td><SegmentType type={s.type} /></td>
              <td><a href={`/admin/sites/${site.id}/segments/${s.id}`}>{s.name}</a></td>
              <td class="num">{s.members}</td>
              <td class="hint">{summary(s.conditions) ?? 'Added by hand or by workflows'}</td>
            </tr>
          ))}
        </Table>
      </>,
      { title: 'Segments', active: 'segments', picker: true },
    )
  })
  .get('/new', async (c) => {
    const site = c.get('site')
    const type = c.req.query('type')
    const csrf = c.get('session').csrf
    if (type !== 'static' && type !== 'dynamic') {
      return c.render(
        <>
          <PageHeader title="Create new segment" back={{ href: `/admin/sites/${site.id}/segments`, label: 'Segments' }} />
          <div class="grid2">
            <a class="card choice" href="?type=dynamic">
              <h2><SegmentType type="dynamic" /></h2>
              <p>Members follow conditions on fields and activities, the moment a contact's data changes.</p>
            </a>
            <a class="card choice" href="?type=static">
              <h2><SegmentType type="static" /></h2>
              <p>A name and a description; members are added and removed by hand or by workflows.</p>
            </a>
          </div>
        </>,
        { title: 'New segment', active: 'segments' },
      )
    }
    const segments = await allSegments(c.env.DB, site.id)
    return c.render(
      <>
        <PageHeader title={`New ${type} segment`} back={{ href: `/admin/sites/${site.id}/segments/new`, label: 'Segment type' }} />
        <SegmentForm site={site} csrf={csrf} segments={segments} action={`/admin/sites/${site.id}/segments`} submit="Create segment" values={{ name: '', description: '', type, conditions: EMPTY_CONDITIONS }} />
      </>,
      { title: 'New segment', active: 'segments', scripts: type === 'dynamic' ? ['conditions'] : [] },
    )
  })
  .post('/', async (c) => {
    const site = c.get('site')
    const csrf = c.get('session').csrf
    const { values, parsed, error } = readForm(await c.req.parseBody())
    const segments = await allSegments(c.env.DB, site.id)
    const again = (errors: FormErrors) => {
      c.status(400)
      return c.render(
        <>
          <PageHeader title={`New ${values.type} segment`} back={{ href: `/admin/sites/${site.id}/segments/new`, label: 'Segment type' }} />
          <SegmentForm site={site} csrf={csrf} segments={segments} action={`/admin/sites/${site.id}/segments`} submit="Create segment" values={values} errors={errors} />
        </>,
        { title: 'New segment', active: 'segments', scripts: values.type === 'dynamic' ? ['conditions'] : [] },
      )
    }
    if (error) return again({ fields: { conditions: error } })
    const r = segmentCreate.safeParse({ name: values.name, description: values.description, type: values.type, ...(values.type === 'dynamic' ? { conditions: parsed } : {}) })
    if (!r.success) return again(fieldErrorsOf(r.error.issues, ['name', 'description', 'conditions']))
    try {
      const { segment } = await createSegment(c.env, site, r.data, c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/segments/${segment.id}?created=1`, 303)
    } catch (err) {
      return again(errorsOf(err, ['name', 'description', 'conditions']))
    }
  })
  .post('/preview', async (c) => {
    const site = c.get('site')
    const body = (await readJson(c, z.unknown()).catch(() => null)) as { conditions?: unknown; segment?: string } | null
    const r = segmentCreate.pick({ conditions: true }).required().safeParse({ conditions: body?.conditions })
    if (!r.success) return c.json({ error: { code: 'invalid_conditions', message: describeIssues(r.error.issues) } }, 400)
    try {
      return c.json(await previewSegment(c.env, site, r.data.conditions, { segment: body?.segment, sample: 5 }))
    } catch (err) {
      const e = errorsOf(err)
      return c.json({ error: { code: 'invalid_conditions', message: e.fields.conditions ?? e.message } }, 400)
    }
  })
  .get('/:id', async (c) => {
    const site = c.get('site')
    const segment = await segmentWithCount(c.env, site, c.req.param('id'))
    if (!segment) return c.notFound()
    const after = cursorOf(c.req.query('cursor'), 1)?.[0] as string | undefined
    const [members, all, trend, uses] = await Promise.all([
      membersAcross(c.get('data'), segment.id, { after, limit: 25 }),
      allSegments(c.env.DB, site.id),
      segmentTrend(c.env, site, segment.id, 30),
      segmentUses(c.env.DB, site, segment.id),
    ])
    const summary = summarizer(site, all)(segment.conditions)
    const notice = c.req.query('created') ? 'Segment created.' : c.req.query('saved') ? 'Segment saved.' : undefined
    return c.render(
      <>
        <PageHeader title={segment.name} back={{ href: `/admin/sites/${site.id}/segments`, label: 'Segments' }}>
          <a class="button" href={`/admin/sites/${site.id}/segments/${segment.id}/edit`}>Edit</a>
          <a class="button secondary" href={`/admin/sites/${site.id}/contacts/export.csv?segment=${encodeURIComponent(segment.id)}`} download>Export CSV</a>
          <a class="button secondary" href={`/admin/sites/${site.id}/segments/${segment.id}/delete`}>Delete…</a>
        </PageHeader>
        <Notice message={notice} />
        <div class="card">
          <p class="stat"><SegmentType type={segment.type} /> · <strong data-members>{segment.members}</strong> members</p>
          {segment.description && <p>{segment.description}</p>}
          {summary && (
            <>
              <h2>Conditions</h2>
              <p>{summary}</p>
            </>
          )}
        </div>
        <div class="card" id="trend">
          <h2>Last 30 days</h2>
          <TrendChart days={trend} />
          <p class="hint">The line is the member count at each day's scheduled pass; bars above the axis are contacts that entered, below it those that left.</p>
          <details>
            <summary>The figures</summary>
            <Table columns={['Day', { label: 'Members', num: true }, { label: 'Entered', num: true }, { label: 'Left', num: true }]} label="Members, entries and exits by day" empty="No days." emptyText="The figures start with the first day's scheduled pass.">
              {[...trend].reverse().map((d) => (
                <tr>
                  <td>{d.date}</td>
                  <td class="num">{d.members ?? '—'}</td>
                  <td class="num">{d.entered}</td>
                  <td class="num">{d.exited}</td>
                </tr>
              ))}
            </Table>
          </details>
        </div>
        <div class="card" id="used-by">
          <h2>Used by</h2>
          {uses.workflows.length === 0 && uses.segments.length === 0 ? (
            <p>No workflow or segment reads this segment: it can be changed or deleted freely.</p>
          ) : (
            <ul>
              {uses.workflows.map((w) => (
                <li>Workflow <a href={`/admin/sites/${site.id}/workflows/${w.id}`}>{w.name}</a> ({w.nodes.map((n) => (n === 'start' ? 'its Start node' : `node ${n}`)).join(', ')})</li>
              ))}
              {uses.segments.map((x) => (
                <li>Segment <a href={`/admin/sites/${site.id}/segments/${x.id}`}>{x.name}</a> (in its conditions)</li>
              ))}
            </ul>
          )}
        </div>
        <h2>Members</h2>
        <Table
          columns={['Contact', 'Name', 'Since', 'Source']}
          label="Members"
          empty="No members."
          emptyText={segment.type === 'dynamic'
            ? 'No contact meets the conditions yet. Contacts join the moment their data does; edit the conditions to widen it.'
            : 'Add contacts from their page (Add to Segment), with a workflow, or with a CSV import.'}
          emptyAction={segment.type === 'dynamic' ? { href: `/admin/sites/${site.id}/segments/${segment.id}/edit`, label: 'Edit the conditions' } : { href: `/admin/sites/${site.id}/contacts/imports`, label: 'Import contacts' }}
          next={members.last && `?cursor=${encodeCursor([members.last])}`}>
          {members.members.map((m) => {
            const contact = contactJson(m.contact)
            return (
              <tr>
                <td><a href={`/admin/sites/${site.id}/contacts/${contact.id}`}>{contact.email ?? contact.id}</a></td>
                <td>{[contact.fields.firstName, contact.fields.lastName].filter(Boolean).join(' ')}</td>
                <td>{when(m.since)}</td>
                <td>{m.source}</td>
              </tr>
            )
          })}
        </Table>
      </>,
      { title: segment.name, active: 'segments', picker: true },
    )
  })
  .get('/:id/edit', async (c) => {
    const site = c.get('site')
    const segment = await getSegment(c.env.DB, site.id, c.req.param('id'))
    if (!segment) return c.notFound()
    const csrf = c.get('session').csrf
    const values: FormValues = { id: segment.id, name: segment.name, description: segment.description, type: segment.type, conditions: JSON.stringify(segment.conditions) }
    return c.render(
      <>
        <PageHeader title={`Edit ${segment.name}`} back={{ href: `/admin/sites/${site.id}/segments/${segment.id}`, label: segment.name }} />
        <SegmentForm site={site} csrf={csrf} segments={await allSegments(c.env.DB, site.id)} action={`/admin/sites/${site.id}/segments/${segment.id}/edit`} submit="Save segment" values={values} />
      </>,
      { title: `Edit ${segment.name}`, active: 'segments', scripts: segment.type === 'dynamic' ? ['conditions'] : [] },
    )
  })
  .post('/:id/edit', async (c) => {
    const site = c.get('site')
    const id = c.req.param('id')
    const csrf = c.get('session').csrf
    const { values, parsed, error } = readForm(await c.req.parseBody())
    values.id = id
    const again = async (errors: FormErrors) => {
      c.status(400)
      return c.render(
        <>
          <PageHeader title="Edit segment" back={{ href: `/admin/sites/${site.id}/segments/${id}`, label: 'Segment' }} />
          <SegmentForm site={site} csrf={csrf} segments={await allSegments(c.env.DB, site.id)} action={`/admin/sites/${site.id}/segments/${id}/edit`} submit="Save segment" values={values} errors={errors} />
        </>,
        { title: 'Edit segment', active: 'segments', scripts: values.type === 'dynamic' ? ['conditions'] : [] },
      )
    }
    if (error) return again({ fields: { conditions: error } })
    const r = segmentPatch.safeParse({ name: values.name, description: values.description, ...(values.type === 'dynamic' ? { conditions: parsed } : {}) })
    if (!r.success) return again(fieldErrorsOf(r.error.issues, ['name', 'description', 'conditions']))
    try {
      await updateSegment(c.env, site, id, r.data, c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/segments/${id}?saved=1`, 303)
    } catch (err) {
      return again(errorsOf(err, ['name', 'description', 'conditions']))
    }
  })
  .get('/:id/delete', async (c) => {
    const site = c.get('site')
    const segment = await segmentWithCount(c.env, site, c.req.param('id'))
    if (!segment) return c.notFound()
    return deletePage(c, segment)
  })
  .post('/:id/delete', async (c) => {
    const site = c.get('site')
    const segment = await segmentWithCount(c.env, site, c.req.param('id'))
    if (!segment) return c.notFound()
    try {
      await removeSegment(c.env, site, segment.id, c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/segments?deleted=1`, 303)
    } catch (err) {
      c.status(409)
      return deletePage(c, segment, messageOf(err))
    }
  })

function deletePage(c: Context<ConsoleEnv>, segment: Segment & { members: number }, error?: string) {
  return c.render(
    <>
      <PageHeader title={`Delete ${segment.name}?`} back={{ href: `/admin/sites/${c.get('site').id}/segments/${segment.id}`, label: segment.name }} />
      <form method="post" class="card">
        <Alert message={error} />
        <Csrf token={c.get('session').csrf} />
        <p>
          The segment and its {segment.members} memberships will be deleted. Contacts stay. This cannot be undone.
        </p>
        <div class="button-row">
          <button type="submit" class="danger">Delete segment</button>
          <a class="button secondary" href={`/admin/sites/${c.get('site').id}/segments/${segment.id}`}>Cancel</a>
        </div>
      </form>
    </>,
    { title: `Delete ${segment.name}`, active: 'segments' },
  )
}
