/**
 * The console's content pages: the list, and the form that creates, edits or deletes a popup, slide-in,
 * bar or inline block, beside a live preview rendered by the same code that runs on the site.
 */
import { Hono } from 'hono'
import { type z } from 'zod'
import { contentCreate, contentPatch, POSITIONS } from '../content/schema'
import { allContent, createContent, removeContent, updateContent } from '../content/service'
import { type Content, getContent } from '../data/content'
import { type Site } from '../data/sites'
import { type FormErrors, errorsOf, fieldErrorsOf, messageOf, text } from './forms'
import { Alert, Csrf, Field, Notice, Table } from './layout'
import { DAYS, describeSchedule, scheduleFields, scheduleInputPath, scheduleOf, windowCount } from './schedule'
import { type ConsoleEnv } from './session'

type Values = Record<string, string>

const FORMATS = [['popup', 'Popup'], ['slide-in', 'Slide-in'], ['bar', 'Bar'], ['inline', 'Inline block']] as const
const TRIGGERS = [['immediately', 'Immediately'], ['delay', 'After a delay'], ['scroll', 'At a scroll depth'], ['exit', 'On exit intent']] as const
const INTERRUPTIVE = [['', 'As its format does'], ['yes', 'Yes'], ['no', 'No']] as const

function valuesOf(c?: Content): Values {
  if (!c) return { format: 'popup', position: 'center', on: 'immediately', backdropCloses: 'on', interruptive: '' }
  const s = c.spec
  return {
    id: c.id,
    name: c.name,
    format: s.format,
    position: s.position ?? '',
    selector: s.selector ?? '',
    placement: s.placement ?? 'inside',
    title: s.title ?? '',
    body: s.body ?? '',
    image: s.image ?? '',
    ctaLabel: s.cta?.label ?? '',
    ctaUrl: s.cta?.url ?? '',
    on: s.display.on,
    ms: s.display.on === 'delay' ? String(s.display.ms) : '',
    percent: s.display.on === 'scroll' ? String(s.display.percent) : '',
    backdropCloses: s.backdropCloses === false ? '' : 'on',
    interruptive: s.interruptive === undefined ? '' : s.interruptive ? 'yes' : 'no',
    neverAfterClosed: s.neverAfterClosed ? 'on' : '',
    neverAfterConverted: s.neverAfterConverted ? 'on' : '',
    ...scheduleFields(s.schedule),
  }
}

/** What a content form posted: its fields, the schedule's renumbered as the form shows them again. */
function valuesSent(form: Record<string, unknown>): Values {
  const sent: Values = {}
  for (const [k, v] of Object.entries(form)) if (typeof v === 'string') sent[k] = v
  return { ...Object.fromEntries(FORM_KEYS.map((k) => [k, text(form, k)])), ...scheduleOf(sent).fields }
}

/** The form's values as the content API's input. */
function inputOf(v: Values) {
  const display = v.on === 'delay' ? { on: 'delay', ms: Number(v.ms || 0) } : v.on === 'scroll' ? { on: 'scroll', percent: Number(v.percent || 0) } : { on: v.on || 'immediately' }
  const input: Record<string, unknown> = { name: v.name, format: v.format, display }
  if (v.format === 'inline') {
    input.selector = v.selector || undefined
    input.placement = v.placement || 'inside'
  } else if (v.position) input.position = v.position
  for (const k of ['title', 'body', 'image'] as const) if (v[k]) input[k] = v[k]
  if (v.ctaLabel || v.ctaUrl) input.cta = { label: v.ctaLabel, url: v.ctaUrl }
  if (v.format === 'popup') input.backdropCloses = v.backdropCloses === 'on'
  if (v.interruptive) input.interruptive = v.interruptive === 'yes'
  if (v.neverAfterClosed === 'on') input.neverAfterClosed = true
  if (v.neverAfterConverted === 'on') input.neverAfterConverted = true
  const { schedule } = scheduleOf(v)
  if (schedule) input.schedule = schedule
  return input
}

/** The fields a content form shows a refusal beside: the API's names, the schedule's own inputs and each weekly window. */
function shownFields(v: Values): string[] {
  return [...CONTENT_FIELDS, ...Array.from({ length: windowCount(v) }, (_, i) => `weekly-${i}`)]
}

/** zod's refusals of a content form, each beside its input (a schedule's beside its start, end or window). */
function formErrorsOf(issues: readonly z.core.$ZodIssue[], v: Values): FormErrors {
  return fieldErrorsOf(issues.map((i) => ({ ...i, path: scheduleInputPath(i.path) })), shownFields(v))
}

function Select(p: { name: string; label: string; value: string; options: ReadonlyArray<readonly [string, string]>; error?: string; hint?: string }) {
  const described = [p.hint && `f-${p.name}-hint`, p.error && `f-${p.name}-error`].filter(Boolean).join(' ') || undefined
  return (
    <div class="field">
      <label for={`f-${p.name}`}>{p.label}</label>
      <select id={`f-${p.name}`} name={p.name} aria-invalid={p.error ? 'true' : undefined} aria-describedby={described}>
        {p.options.map(([v, l]) => <option value={v} selected={v === p.value}>{l}</option>)}
      </select>
      {p.hint && <div class="hint" id={`f-${p.name}-hint`}>{p.hint}</div>}
      {p.error && <div class="error" id={`f-${p.name}-error`}>{p.error}</div>}
    </div>
  )
}

/**
 * When the content may show: a start, an end and weekly hours, in the site's time zone. Each window is
 * a fieldset of day checkboxes and two times; one more, blank, is there to fill in (the page's script
 * turns it into an "Add weekly hours" button and gives each window a Remove button).
 */
function ScheduleFields(p: { site: Site; values: Values; errors: Record<string, string> }) {
  const count = windowCount(p.values)
  return (
    <fieldset class="schedule" id="schedule" aria-describedby="schedule-hint">
      <legend>Schedule</legend>
      <p class="hint" id="schedule-hint">
        In the site's time zone ({p.site.timeZone}). Left empty, it may show at any time. A window to 00:00 runs until midnight, and one that ends
        earlier than it begins runs past midnight.
      </p>
      {p.errors.schedule && <div class="error" id="f-schedule-error">{p.errors.schedule}</div>}
      <div class="row">
        <Field name="scheduleStart" label="Starts" type="datetime-local" value={p.values.scheduleStart} error={p.errors.scheduleStart} />
        <Field name="scheduleEnd" label="Ends" type="datetime-local" value={p.values.scheduleEnd} error={p.errors.scheduleEnd} />
      </div>
      {Array.from({ length: count + 1 }, (_, i) => (
        <WeeklyWindow index={i} values={p.values} error={p.errors[`weekly-${i}`]} blank={i === count} />
      ))}
    </fieldset>
  )
}

function WeeklyWindow(p: { index: number; values: Values; error?: string; blank: boolean }) {
  const name = `weekly-${p.index}`
  return (
    <fieldset class="window" data-window={p.index} data-blank={p.blank ? 'true' : undefined} aria-describedby={p.error ? `f-${name}-error` : undefined}>
      <legend>{p.blank ? 'Add weekly hours' : `Weekly hours ${p.index + 1}`}</legend>
      <div class="days">
        {DAYS.map(([day, label]) => (
          <label><input type="checkbox" name={`${name}-${day}`} checked={p.values[`${name}-${day}`] === 'on'} /> {label}</label>
        ))}
      </div>
      <div class="row">
        <Field name={`${name}-from`} label="From" type="time" value={p.values[`${name}-from`]} />
        <Field name={`${name}-to`} label="To" type="time" value={p.values[`${name}-to`]} />
      </div>
      {p.error && <div class="error" id={`f-${name}-error`}>{p.error}</div>}
    </fieldset>
  )
}

function ContentForm(p: { site: Site; csrf: string; values: Values; errors?: FormErrors; action: string; isNew: boolean }) {
  const v = p.values
  const e = p.errors?.fields ?? {}
  return (
    <div class="grid2">
      <form method="post" action={p.action} class="card" id="content-form">
        <Alert message={p.errors?.message} />
        <Csrf token={p.csrf} />
        <Field name="name" label="Name" value={v.name} required error={e.name} hint="Only you see it." />
        {p.isNew && <Field name="id" label="Id (optional)" value={v.id} error={e.id} hint="Letters, digits, _ and -; made for you when empty." />}
        <Select name="format" label="Format" value={v.format} options={FORMATS} error={e.format} />
        <Select name="position" label="Position" value={v.position} options={[['', 'Default'], ...POSITIONS.map((x) => [x, x.replace('-', ' ')] as const)]} error={e.position} />
        <Field name="selector" label="CSS selector (inline blocks)" value={v.selector} error={e.selector} hint="For example #hero or .product-description" />
        <Select name="placement" label="Placement (inline blocks)" value={v.placement ?? 'inside'} options={[['before', 'Before'], ['after', 'After'], ['inside', 'Inside'], ['replace', 'Replace']]} error={e.placement} />
        <Field name="title" label="Title" value={v.title} error={e.title} />
        <Field name="body" label="Body" value={v.body} textarea error={e.body} hint="HTML: p, a, strong, em, br, ul, ol, li and img are kept; everything else is removed." />
        <Field name="image" label="Image URL" type="url" value={v.image} error={e.image} />
        <div class="row">
          <Field name="ctaLabel" label="Call to action label" value={v.ctaLabel} error={e.cta} />
          <Field name="ctaUrl" label="Call to action URL" type="url" value={v.ctaUrl} />
        </div>
        <div class="row">
          <Select name="on" label="Show" value={v.on} options={TRIGGERS} error={e.display} />
          <Field name="ms" label="Delay (ms)" type="number" value={v.ms} />
          <Field name="percent" label="Scroll depth (%)" type="number" value={v.percent} />
        </div>
        <div class="field">
          <label><input type="checkbox" name="backdropCloses" checked={v.backdropCloses === 'on'} /> A click on the backdrop closes a popup</label>
        </div>
        <Select name="interruptive" label="Interrupts the visitor" value={v.interruptive} options={INTERRUPTIVE} error={e.interruptive} hint="Popups and slide-ins interrupt and bars and inline blocks do not, unless you say otherwise. Of two workflows that would interrupt on the same page view, only the higher one shows, and the fatigue caps count what interrupts." />
        <div class="field">
          <label><input type="checkbox" name="neverAfterClosed" checked={v.neverAfterClosed === 'on'} /> Never show again after the visitor closed it</label>
          <label><input type="checkbox" name="neverAfterConverted" checked={v.neverAfterConverted === 'on'} /> Never show again after they converted</label>
        </div>
        <ScheduleFields site={p.site} values={v} errors={e} />
        <button type="submit">{p.isNew ? 'Create content' : 'Save content'}</button>
      </form>
      <section class="card" aria-labelledby="preview-title">
        <h2 id="preview-title">Live preview</h2>
        <p class="hint">Rendered by the same code that runs on your site.</p>
        <iframe class="preview" id="preview" title="Preview of this content" src="/admin/preview" />
      </section>
    </div>
  )
}

/** The content fields the form shows a refusal beside (the API's names: cta and display sit by their inputs). */
const CONTENT_FIELDS = ['name', 'id', 'format', 'position', 'selector', 'placement', 'title', 'body', 'image', 'cta', 'display', 'interruptive', 'neverAfterClosed', 'neverAfterConverted', 'schedule', 'scheduleStart', 'scheduleEnd']

const FORM_KEYS = ['id', 'name', 'format', 'position', 'selector', 'placement', 'title', 'body', 'image', 'ctaLabel', 'ctaUrl', 'on', 'ms', 'percent', 'backdropCloses', 'interruptive', 'neverAfterClosed', 'neverAfterConverted']

export const contentRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const content = await allContent(c.env.DB, site.id)
    return c.render(
      <>
        <h1>Content</h1>
        <Notice message={c.req.query('deleted') ? 'Content deleted.' : undefined} />
        <p><a class="button" href={`/admin/sites/${site.id}/content/new`}>Create content</a></p>
        <Table columns={['Name', 'Format', 'Title', 'Shown', 'Schedule']} empty="No content yet.">
          {content.map((x) => (
            <tr>
              <td><a href={`/admin/sites/${site.id}/content/${x.id}`}>{x.name}</a></td>
              <td>{x.spec.format}{x.spec.position ? ` · ${x.spec.position}` : ''}</td>
              <td>{x.spec.title ?? ''}</td>
              <td>{x.spec.display.on}</td>
              <td>{x.spec.schedule ? describeSchedule(x.spec.schedule) : 'Always'}</td>
            </tr>
          ))}
        </Table>
      </>,
      { title: 'Content', active: 'content', picker: true },
    )
  })
  .get('/new', (c) => {
    const site = c.get('site')
    const csrf = c.get('session').csrf
    return c.render(
      <>
        <h1>New content</h1>
        <ContentForm site={site} csrf={csrf} values={valuesOf()} action={`/admin/sites/${site.id}/content`} isNew />
      </>,
      { title: 'New content', active: 'content', scripts: ['content'] },
    )
  })
  .post('/', async (c) => {
    const site = c.get('site')
    const csrf = c.get('session').csrf
    const form = await c.req.parseBody()
    const values = valuesSent(form)
    const again = (errors: FormErrors) => {
      c.status(400)
      return c.render(
        <>
          <h1>New content</h1>
          <ContentForm site={site} csrf={csrf} values={values} errors={errors} action={`/admin/sites/${site.id}/content`} isNew />
        </>,
        { title: 'New content', active: 'content', scripts: ['content'] },
      )
    }
    const r = contentCreate.safeParse({ ...inputOf(values), ...(values.id ? { id: values.id } : {}) })
    if (!r.success) return again(formErrorsOf(r.error.issues, values))
    try {
      const created = await createContent(c.env.DB, site, r.data, c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/content/${created.id}?saved=1`, 303)
    } catch (err) {
      return again(errorsOf(err, shownFields(values)))
    }
  })
  .get('/:id', async (c) => {
    const site = c.get('site')
    const content = await getContent(c.env.DB, site.id, c.req.param('id'))
    if (!content) return c.notFound()
    const csrf = c.get('session').csrf
    return c.render(
      <>
        <p><a href={`/admin/sites/${site.id}/content`}>← Content</a></p>
        <h1>{content.name}</h1>
        <Notice message={c.req.query('saved') ? 'Content saved.' : undefined} />
        <ContentForm site={site} csrf={csrf} values={valuesOf(content)} action={`/admin/sites/${site.id}/content/${content.id}`} isNew={false} />
        <form method="post" action={`/admin/sites/${site.id}/content/${content.id}/delete`} class="card" data-confirm={`Delete ${content.name}? This cannot be undone.`}>
          <Csrf token={csrf} />
          <button type="submit" class="danger">Delete content</button>
        </form>
      </>,
      { title: content.name, active: 'content', scripts: ['content'] },
    )
  })
  .post('/:id', async (c) => {
    const site = c.get('site')
    const id = c.req.param('id')
    const csrf = c.get('session').csrf
    const form = await c.req.parseBody()
    const values = valuesSent(form)
    const again = (errors: FormErrors) => {
      c.status(400)
      return c.render(
        <>
          <h1>Edit content</h1>
          <ContentForm site={site} csrf={csrf} values={values} errors={errors} action={`/admin/sites/${site.id}/content/${id}`} isNew={false} />
        </>,
        { title: 'Edit content', active: 'content', scripts: ['content'] },
      )
    }
    const r = contentPatch.safeParse(inputOf(values))
    if (!r.success) return again(formErrorsOf(r.error.issues, values))
    try {
      // The form is the whole content: what it leaves empty is cleared, not kept.
      await updateContent(c.env.DB, site, id, r.data, c.get('changes'), Date.now(), { replace: true })
      return c.redirect(`/admin/sites/${site.id}/content/${id}?saved=1`, 303)
    } catch (err) {
      return again(errorsOf(err, shownFields(values)))
    }
  })
  .post('/:id/delete', async (c) => {
    const site = c.get('site')
    try {
      await removeContent(c.env.DB, site, c.req.param('id'), c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/content?deleted=1`, 303)
    } catch (err) {
      const content = await getContent(c.env.DB, site.id, c.req.param('id'))
      if (!content) return c.notFound()
      const csrf = c.get('session').csrf
      c.status(409)
      return c.render(
        <>
          <h1>{content.name}</h1>
          <ContentForm site={site} csrf={csrf} values={valuesOf(content)} action={`/admin/sites/${site.id}/content/${content.id}`} isNew={false} errors={{ fields: {}, message: messageOf(err) }} />
        </>,
        { title: content.name, active: 'content', scripts: ['content'] },
      )
    }
  })

