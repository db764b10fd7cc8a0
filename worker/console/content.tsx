/**
 * The console's content pages: the list, and the form that creates, edits or deletes a popup, slide-in,
 * bar or inline block — what it says, its form, when it shows, its schedule and its versions in other
 * languages — beside a live preview rendered by the same code that runs on the site.
 */
import { Hono } from 'hono'
import { type Display, type EdgeDisplay, type FormField } from '../../shared/content'
import { FieldCatalog } from '../conditions/fields'
import { contentCreate, contentPatch, POSITIONS } from '../content/schema'
import { allContent, createContent, removeContent, updateContent } from '../content/service'
import { type Content, getContent } from '../data/content'
import { type Site } from '../data/sites'
import { Refusal } from '../http/errors'
import { parse } from '../http/validate'
import { fieldValues, namedSample } from '../data/contacts'
import {
  type FieldInputs, type Values, contentInput, contentValues, fieldCount, inputNames, inputPath, keepUnchanged, sentValues, versionCount, versionForm,
} from './content-values'
import { type FormErrors, errorsOf, messageOf } from './forms'
import { Alert, Badge, Csrf, Field, Notice, PageData, PageHeader, Table, capitalized } from './layout'
import { DAYS, describeSchedule, windowCount } from './schedule'
import { type ConsoleEnv } from './session'

const FORMATS = [['popup', 'Popup'], ['slide-in', 'Slide-in'], ['bar', 'Bar'], ['inline', 'Inline block']] as const
const TRIGGERS = [
  ['immediately', 'Immediately'], ['delay', 'After a delay'], ['scroll', 'At a scroll depth'], ['exit', 'On exit intent'],
  ['click', 'On a click of an element'], ['idle', 'After the visitor is idle'], ['pageViews', 'After some page views in the session'], ['timeOnSite', 'After some time on the site'],
] as const
const INTERRUPTIVE = [['', 'As its format does'], ['yes', 'Yes'], ['no', 'No']] as const

/** When content shows, in words, for the list. */
function describeDisplay(d: Display | EdgeDisplay): string {
  switch (d.on) {
    case 'delay': return `After ${d.ms / 1000} s`
    case 'scroll': return `At ${d.percent} % scrolled`
    case 'exit': return 'On exit intent'
    case 'click': return `On a click of ${d.selector}`
    case 'idle': return `After ${d.seconds} s idle`
    case 'pageViews': return `From page view ${d.count} of a session`
    case 'timeOnSite': return `After ${d.seconds} s on the site`
    default: return 'Immediately'
  }
}

/** What a form may ask for on this site: the email, and each field browsers may set, with the input its type takes. */
interface FieldChoice {
  key: string
  label: string
  type: FormField['type']
}

const INPUT_OF_TYPE = { string: 'text', number: 'number', date: 'date', boolean: 'checkbox', timestamp: 'text' } as const

function fieldChoices(site: Site): FieldChoice[] {
  const catalog = new FieldCatalog(site.fields)
  const browser = site.browserFields.flatMap((key) => {
    const info = catalog.get(key)
    return info && key !== 'email' ? [{ key, label: capitalized(info.label), type: INPUT_OF_TYPE[info.type] }] : []
  })
  return [{ key: 'email', label: 'Email', type: 'email' }, ...browser]
}

const fieldInputs = (site: Site): FieldInputs => Object.fromEntries(fieldChoices(site).map((f) => [f.key, f.type]))

function valuesOf(c?: Content): Values {
  if (!c) return { format: 'popup', position: 'center', on: 'immediately', backdropCloses: 'on', interruptive: '' }
  return { id: c.id, name: c.name, ...contentValues(c.spec) }
}

/**
 * A version's language left out, not a language tag, or named twice (the second would replace the first in
 * the versions the API keeps by language): refused beside it before anything else is checked.
 */
function languageProblems(v: Values): Record<string, string> {
  const problems: Record<string, string> = {}
  const seen = new Set<string>()
  for (let i = 0; i < versionCount(v); i++) {
    const lang = v[`v-${i}-lang`]
    // The schema's own rule for a language tag, as the default language is held to it.
    const tag = contentPatch.shape.defaultLanguage.safeParse(lang)
    if (!lang) problems[`v-${i}-lang`] = 'name the language of this version: es, pt-BR, ar…'
    else if (!tag.success) problems[`v-${i}-lang`] = tag.error.issues[0].message
    else if (seen.has(lang.toLowerCase())) problems[`v-${i}-lang`] = `there is a version in ${lang} already`
    seen.add(lang.toLowerCase())
  }
  return problems
}

/** A refusal of the content form, each issue beside the input it concerns (a form's field, a version's title...). */
function formErrors(err: unknown, v: Values): FormErrors {
  if (!(err instanceof Refusal) || !err.detail.issues?.length) return errorsOf(err, inputNames(v))
  const issues = err.detail.issues.map((i) => ({ ...i, path: inputPath(i.path, v) }))
  return errorsOf(new Refusal(err.kind, err.code, err.message, { ...err.detail, field: issues[0].path, issues }), inputNames(v))
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

/**
 * A form's builder: its fields in order (each asks for the email or a field browsers may set, with a
 * label, and may be required), the consent checkbox's text, the submit button's label and the thanks.
 * One more field, blank, is there to fill in; the page's script turns it into an "Add a field" button and
 * gives each field Move up, Move down and Remove buttons.
 */
function FormBuilder(p: { prefix: string; legend: string; hint: string; values: Values; errors: Record<string, string>; choices: FieldChoice[]; hidden?: boolean }) {
  const count = fieldCount(p.values, p.prefix)
  const error = p.errors[`${p.prefix}-fields`]
  return (
    <fieldset class="form-builder" data-prefix={p.prefix} hidden={p.hidden} aria-describedby={[`${p.prefix}-hint`, error && `f-${p.prefix}-fields-error`].filter(Boolean).join(' ')}>
      <legend>{p.legend}</legend>
      <p class="hint" id={`${p.prefix}-hint`}>{p.hint}</p>
      {error && <div class="error" id={`f-${p.prefix}-fields-error`}>{error}</div>}
      <div class="form-fields">
        {Array.from({ length: count + 1 }, (_, i) => (
          <FormFieldRow prefix={p.prefix} index={i} values={p.values} errors={p.errors} choices={p.choices} blank={i === count} />
        ))}
      </div>
      <Field name={`${p.prefix}-consent`} label="Consent checkbox" value={p.values[`${p.prefix}-consent`]} error={p.errors[`${p.prefix}-consent`]} hint="Its text, as the visitor reads it beside the box; left empty, the form has no consent checkbox." />
      <div class="field">
        <label><input type="checkbox" name={`${p.prefix}-consentRequired`} checked={p.values[`${p.prefix}-consentRequired`] === 'on'} /> The form cannot be sent without it ticked</label>
      </div>
      <Field name={`${p.prefix}-submit`} label="Submit button" value={p.values[`${p.prefix}-submit`]} error={p.errors[`${p.prefix}-submit`]} placeholder="Subscribe" />
      <Field name={`${p.prefix}-thanks`} label="Thanks" value={p.values[`${p.prefix}-thanks`]} error={p.errors[`${p.prefix}-thanks`]} hint="What the visitor reads once it is sent." />
    </fieldset>
  )
}

function FormFieldRow(p: { prefix: string; index: number; values: Values; errors: Record<string, string>; choices: FieldChoice[]; blank: boolean }) {
  const name = `${p.prefix}-field-${p.index}`
  const key = p.values[`${name}-key`] ?? ''
  const keyError = p.errors[`${name}-key`]
  return (
    <fieldset class="form-field" data-field={p.index} data-blank={p.blank ? 'true' : undefined}>
      <legend>{p.blank ? 'Add a field' : `Field ${p.index + 1}`}</legend>
      <div class="row">
        <div class="field">
          <label for={`f-${name}-key`}>Asks for</label>
          <select id={`f-${name}-key`} name={`${name}-key`} aria-invalid={keyError ? 'true' : undefined} aria-describedby={keyError ? `f-${name}-key-error` : undefined}>
            <option value="">{p.blank ? 'Choose a field' : 'Nothing (left out)'}</option>
            {p.choices.map((c) => (
              <option value={c.key} data-label={c.label} selected={c.key === key}>{`${c.label} · ${c.type}`}</option>
            ))}
            {/* A stored field the site no longer lets browsers set stays on offer: saving says so instead of dropping it. */}
            {key && !p.choices.some((c) => c.key === key) && <option value={key} data-label={key} selected>{`${key} (not a field browsers may set)`}</option>}
          </select>
          {keyError && <div class="error" id={`f-${name}-key-error`}>{keyError}</div>}
        </div>
        <Field name={`${name}-label`} label="Label" value={p.values[`${name}-label`]} error={p.errors[`${name}-label`]} />
        <div class="field shrink">
          <label><input type="checkbox" name={`${name}-required`} checked={p.values[`${name}-required`] === 'on'} /> Required</label>
        </div>
      </div>
    </fieldset>
  )
}

/**
 * The default version's language and the versions in other languages, each with its title, body, call to
 * action and, when it has one of its own, its form. One more version, blank, is there to fill in; the
 * page's script turns it into an "Add a language" button.
 */
function Languages(p: { values: Values; errors: Record<string, string>; choices: FieldChoice[] }) {
  const count = versionCount(p.values)
  return (
    <fieldset class="languages" id="languages" aria-describedby="languages-hint">
      <legend>Languages</legend>
      <p class="hint" id="languages-hint">
        A visitor reads the version in their language (their contact's language field, else their browser's), or else the default. What a
        version leaves empty, it shows as the default does.
      </p>
      {p.errors.versions && <div class="error" id="f-versions-error">{p.errors.versions}</div>}
      <Field name="defaultLanguage" label="Language of the default version" value={p.values.defaultLanguage} error={p.errors.defaultLanguage} hint="A language tag such as en; optional." />
      {Array.from({ length: count + 1 }, (_, i) => (
        <Version index={i} values={p.values} errors={p.errors} choices={p.choices} blank={i === count} />
      ))}
    </fieldset>
  )
}

function Version(p: { index: number; values: Values; errors: Record<string, string>; choices: FieldChoice[]; blank: boolean }) {
  const at = (k: string) => `v-${p.index}-${k}`
  const lang = p.values[at('lang')]
  const ownForm = p.values[at('ownForm')] === 'on'
  return (
    <fieldset class="version" data-version={p.index} data-blank={p.blank ? 'true' : undefined}>
      <legend>{p.blank ? 'Add a language' : `Version in ${lang || 'another language'}`}</legend>
      <Field name={at('lang')} label="Language" value={lang} error={p.errors[at('lang')]} hint="A language tag: es, pt-BR, ar…" />
      <Field name={at('title')} label="Title" value={p.values[at('title')]} error={p.errors[at('title')]} />
      <Field name={at('body')} label="Body" value={p.values[at('body')]} textarea error={p.errors[at('body')]} />
      <div class="row">
        <Field name={at('ctaLabel')} label="Call to action label" value={p.values[at('ctaLabel')]} error={p.errors[at('ctaLabel')]} />
        <Field name={at('ctaUrl')} label="Call to action URL" type="url" value={p.values[at('ctaUrl')]} error={p.errors[at('ctaUrl')]} hint="Left empty, the default's." />
      </div>
      <div class="field">
        <label><input type="checkbox" name={at('ownForm')} checked={ownForm} data-own-form /> A form of its own in this language (otherwise the default's)</label>
      </div>
      <FormBuilder prefix={versionForm(p.index)} legend="Its form" hint="The fields, consent, button and thanks in this language." values={p.values} errors={p.errors} choices={p.choices} />
    </fieldset>
  )
}

/** The inputs of a display trigger, each shown (by the page's script) only for its own trigger. */
function TriggerInput(p: { on: string; name: string; label: string; values: Values; errors: Record<string, string>; hint?: string; type?: string }) {
  return (
    <div class="trigger" data-on={p.on}>
      <Field name={p.name} label={p.label} type={p.type ?? 'number'} value={p.values[p.name]} error={p.errors[p.name]} hint={p.hint} />
    </div>
  )
}

function ContentForm(p: { site: Site; csrf: string; values: Values; errors?: FormErrors; action: string; isNew: boolean }) {
  const v = p.values
  const e = p.errors?.fields ?? {}
  const choices = fieldChoices(p.site)
  const tokens = 'Tokens put the visitor\'s own values in: {{firstName | "there"}} writes their first name, or "there" when it is not known.'
  return (
    <div class="grid2">
      <form method="post" action={p.action} class="card" id="content-form">
        <Alert message={p.errors?.message} />
        <Csrf token={p.csrf} />
        <PageData id="content-data" data={{ inputs: fieldInputs(p.site) }} />
        <Field name="name" label="Name" value={v.name} required error={e.name} hint="Only you see it." />
        {p.isNew && <Field name="id" label="Id (optional)" value={v.id} error={e.id} hint="Letters, digits, _ and -; made for you when empty." />}
        <Select name="format" label="Format" value={v.format} options={FORMATS} error={e.format} />
        <Select name="position" label="Position" value={v.position} options={[['', 'Default'], ...POSITIONS.map((x) => [x, x.replace('-', ' ')] as const)]} error={e.position} />
        <Field name="selector" label="CSS selector (inline blocks)" value={v.selector} error={e.selector} hint="For example #hero or .product-description" />
        <Select name="placement" label="Placement (inline blocks)" value={v.placement ?? 'inside'} options={[['before', 'Before'], ['after', 'After'], ['inside', 'Inside'], ['replace', 'Replace']]} error={e.placement} />
        <Field name="title" label="Title" value={v.title} error={e.title} hint={tokens} />
        <Field name="body" label="Body" value={v.body} textarea error={e.body} hint="HTML: p, a, strong, em, br, ul, ol, li and img are kept; everything else is removed. Tokens too." />
        <Field name="image" label="Image URL" type="url" value={v.image} error={e.image} />
        <div class="row">
          <Field name="ctaLabel" label="Call to action label" value={v.ctaLabel} error={e.ctaLabel} />
          <Field name="ctaUrl" label="Call to action URL" type="url" value={v.ctaUrl} error={e.ctaUrl} />
        </div>
        <FormBuilder
          prefix="form"
          legend="Form"
          hint={`Ask for the visitor's email or the fields browsers may set on this site (the site's page lists them). Sending it tells Segue who they are. ${choices.length === 1 ? 'Add first name or other fields to the site\'s browser fields to ask for them.' : ''}`.trim()}
          values={v}
          errors={e}
          choices={choices}
        />
        <div class="row">
          <Select name="on" label="Show" value={v.on} options={TRIGGERS} error={e.display} />
          <TriggerInput on="delay" name="ms" label="Delay (ms)" values={v} errors={e} />
          <TriggerInput on="scroll" name="percent" label="Scroll depth (%)" values={v} errors={e} />
          <TriggerInput on="click" name="clickSelector" label="CSS selector of the element" type="text" values={v} errors={e} hint="For example .size-guide or #newsletter" />
          <TriggerInput on="idle" name="idleSeconds" label="Seconds without activity" values={v} errors={e} />
          <TriggerInput on="pageViews" name="pageViewCount" label="Page views in the session" values={v} errors={e} hint="It shows from that page view on." />
          <TriggerInput on="timeOnSite" name="siteSeconds" label="Seconds on the site" values={v} errors={e} hint="Counted from the start of the visitor's session." />
        </div>
        <div class="field">
          <label><input type="checkbox" name="backdropCloses" checked={v.backdropCloses === 'on'} /> A click on the backdrop closes a popup</label>
        </div>
        <Select name="interruptive" label="Interrupts the visitor" value={v.interruptive} options={INTERRUPTIVE} error={e.interruptive} hint="Popups and slide-ins interrupt and bars and inline blocks do not, unless you say otherwise. Of two workflows that would interrupt on the same page view, only the higher one shows, and the fatigue caps count what interrupts." />
        <div class="field">
          <label><input type="checkbox" name="neverAfterClosed" checked={v.neverAfterClosed === 'on'} /> Never show again after the visitor closed it</label>
          <label><input type="checkbox" name="neverAfterConverted" checked={v.neverAfterConverted === 'on'} /> Never show again after they converted</label>
          <label><input type="checkbox" name="neverAfterSubmitted" checked={v.neverAfterSubmitted === 'on'} /> Never show again after they sent its form</label>
        </div>
        <ScheduleFields site={p.site} values={v} errors={e} />
        <Languages values={v} errors={e} choices={choices} />
        <button type="submit">{p.isNew ? 'Create content' : 'Save content'}</button>
      </form>
      <section class="card preview-card" aria-labelledby="preview-title">
        <h2 id="preview-title">Live preview</h2>
        <p class="hint">Rendered by the same code that runs on your site, its tokens filled as the edge fills them.</p>
        <div class="row">
          <div class="field">
            <label for="preview-as">Preview as</label>
            <select id="preview-as" data-contacts={`/admin/sites/${p.site.id}/content/preview/contacts`}>
              <option value="">A visitor we know nothing about</option>
            </select>
          </div>
          <div class="field">
            <label for="preview-lang">Language</label>
            <select id="preview-lang">
              <option value="">The default{v.defaultLanguage ? ` (${v.defaultLanguage})` : ''}</option>
              {Array.from({ length: versionCount(v) }, (_, i) => v[`v-${i}-lang`]).filter(Boolean).map((lang) => <option value={lang}>{lang}</option>)}
            </select>
          </div>
        </div>
        <iframe class="preview" id="preview" title="Preview of this content" src="/admin/preview" />
      </section>
    </div>
  )
}

/** Contacts to preview content as: the most recently seen with a first name, and every field a token may name. */
/** Sample contacts the content editor's preview offers. */
const PREVIEW_SAMPLE = 5

export const contentRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const content = await allContent(c.env.DB, site.id)
    return c.render(
      <>
        <PageHeader title="Content">
          <a class="button" href={`/admin/sites/${site.id}/content/new`}>Create content</a>
        </PageHeader>
        <Notice message={c.req.query('deleted') ? 'Content deleted.' : undefined} />
        <Table
          columns={['Name', 'Format', 'Title', 'Shown', 'Schedule']}
          label="Content"
          empty="No content yet."
          emptyText="Content is what visitors see: a popup, a slide-in, a bar or an inline block. Create one, then show it to a segment with a workflow."
          emptyAction={{ href: `/admin/sites/${site.id}/content/new`, label: 'Create content' }}
        >
          {content.map((x) => (
            <tr>
              <td><a href={`/admin/sites/${site.id}/content/${x.id}`}>{x.name}</a></td>
              <td>{x.spec.format}{x.spec.position ? ` · ${x.spec.position}` : ''}{x.spec.form ? ' · form' : ''}</td>
              <td>{x.spec.title ?? ''}</td>
              <td>{describeDisplay(x.spec.display)}</td>
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
        <PageHeader title="New content" back={{ href: `/admin/sites/${site.id}/content`, label: 'Content' }} />
        <ContentForm site={site} csrf={csrf} values={valuesOf()} action={`/admin/sites/${site.id}/content`} isNew />
      </>,
      { title: 'New content', active: 'content', scripts: ['content'] },
    )
  })
  // Two segments: it cannot be taken for a piece of content's page.
  .get('/preview/contacts', async (c) => {
    // A few contacts with a first name from each shard, each read bounded however big the site is.
    const sample = (await c.get('data').each((db) => namedSample(db, c.get('site').id, PREVIEW_SAMPLE))).flat().slice(0, PREVIEW_SAMPLE)
    return c.json({
      contacts: sample.map((ct) => ({
        name: [ct.fields.firstName, ct.fields.lastName].filter(Boolean).join(' '),
        email: ct.email ?? ct.claimedEmail,
        // The values the edge fills tokens from: the contact's fields with its identifiers and times.
        fields: fieldValues(ct),
      })),
    })
  })
  .post('/', async (c) => {
    const site = c.get('site')
    const csrf = c.get('session').csrf
    const values = sentValues(await c.req.parseBody())
    const again = (errors: FormErrors) => {
      c.status(400)
      return c.render(
        <>
          <PageHeader title="New content" back={{ href: `/admin/sites/${site.id}/content`, label: 'Content' }} />
          <ContentForm site={site} csrf={csrf} values={values} errors={errors} action={`/admin/sites/${site.id}/content`} isNew />
        </>,
        { title: 'New content', active: 'content', scripts: ['content'] },
      )
    }
    const languages = languageProblems(values)
    if (Object.keys(languages).length > 0) return again({ fields: languages })
    try {
      const input = parse(contentCreate, { ...contentInput(values, fieldInputs(site)), ...(values.id ? { id: values.id } : {}) })
      const created = await createContent(c.env.DB, site, input, c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/content/${created.id}?saved=1`, 303)
    } catch (err) {
      return again(formErrors(err, values))
    }
  })
  .get('/:id', async (c) => {
    const site = c.get('site')
    const content = await getContent(c.env.DB, site.id, c.req.param('id'))
    if (!content) return c.notFound()
    const csrf = c.get('session').csrf
    return c.render(
      <>
        <PageHeader title={content.name} back={{ href: `/admin/sites/${site.id}/content`, label: 'Content' }} />
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
    const current = await getContent(c.env.DB, site.id, c.req.param('id'))
    if (!current) return c.notFound()
    const csrf = c.get('session').csrf
    const values = sentValues(await c.req.parseBody())
    const again = (errors: FormErrors) => {
      c.status(400)
      return c.render(
        <>
          <PageHeader title="Edit content" back={{ href: `/admin/sites/${site.id}/content/${current.id}`, label: current.name }} />
          <ContentForm site={site} csrf={csrf} values={values} errors={errors} action={`/admin/sites/${site.id}/content/${current.id}`} isNew={false} />
        </>,
        { title: 'Edit content', active: 'content', scripts: ['content'] },
      )
    }
    const languages = languageProblems(values)
    if (Object.keys(languages).length > 0) return again({ fields: languages })
    try {
      const input = contentInput(values, fieldInputs(site))
      keepUnchanged(input, values, current.spec)
      // The form is the whole content: what it leaves empty is cleared, not kept.
      await updateContent(c.env.DB, site, current.id, parse(contentPatch, input), c.get('changes'), Date.now(), { replace: true })
      return c.redirect(`/admin/sites/${site.id}/content/${current.id}?saved=1`, 303)
    } catch (err) {
      return again(formErrors(err, values))
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
          <PageHeader title={content.name} back={{ href: `/admin/sites/${site.id}/content`, label: 'Content' }} />
          <ContentForm site={site} csrf={csrf} values={valuesOf(content)} action={`/admin/sites/${site.id}/content/${content.id}`} isNew={false} errors={{ fields: {}, message: messageOf(err) }} />
        </>,
        { title: content.name, active: 'content', scripts: ['content'] },
      )
    }
  })
