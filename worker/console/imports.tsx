/**
 * The console's CSV imports: a page that reads a file in the browser (client/import.ts, with papaparse)
 * to show its first rows and map its columns to fields, then starts an import and sends it in chunks
 * through the same routes as the admin API (mounted here behind the session and its CSRF token); and an
 * import's page, with its progress bar while the queue writes it and the rows it refused.
 */
import { Hono } from 'hono'
import { SYSTEM_FIELDS, isSystemField } from '../conditions/fields'
import { CHUNK_ROWS, IDENTIFIERS, MAX_CHUNK_BYTES, MAX_IMPORT_ROWS, importTargets } from '../contacts/csv'
import { type ImportStatus, importStatus } from '../contacts/import'
import { importRoutes } from '../contacts/import-routes'
import { recentImports } from '../data/imports'
import { allSegments } from '../data/segments'
import { type Site } from '../data/sites'
import { Refusal } from '../http/errors'
import { Badge, Notice, PageData, PageHeader, Table, capitalized, when } from './layout'
import { type ConsoleEnv } from './session'

/** What the page script offers a column: every field an import can set, with its label, or nothing. */
function targets(site: Site) {
  const custom = new Map(site.fields.map((f) => [f.key, f.label ?? f.key]))
  const label = (key: string) =>
    key === 'id' ? 'Contact id' : isSystemField(key) ? capitalized(SYSTEM_FIELDS[key].label) : custom.get(key) ?? key
  return importTargets(site).map((key) => ({ key, label: label(key) }))
}

/** How far an import has come, in words, beside its progress bar. */
function progressText(s: ImportStatus): string {
  const n = (x: number) => x.toLocaleString('en')
  const done = s.rows.written + s.rows.failed
  const refused = s.rows.failed > 0 ? `, ${n(s.rows.failed)} not written` : ''
  const state = s.status === 'finished' ? 'Finished' : s.status === 'writing' ? 'Writing' : 'Receiving rows'
  return `${state}: ${n(done)} of ${n(s.rows.total)} rows done (${n(s.rows.written)} written${refused})`
}

export const importPages = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const [segments, recent] = await Promise.all([allSegments(c.env.DB, site.id), recentImports(c.env.DB, site.id, 20)])
    const base = `/admin/sites/${site.id}/contacts/imports`
    return c.render(
      <>
        <PageHeader title="Import contacts from a CSV" back={{ href: `/admin/sites/${site.id}/contacts`, label: 'Contacts' }} />
        <section class="card" id="csv-import" aria-labelledby="file-title" data-start-url={base}>
          <h2 id="file-title">File</h2>
          <noscript><p class="alert">Importing reads the file in your browser first: turn on JavaScript, or send it through the admin API (docs/csv.md).</p></noscript>
          <div class="field">
            <label for="csv-file">CSV file</label>
            <input id="csv-file" type="file" accept=".csv,text/csv,text/plain" aria-describedby="csv-file-hint" />
            <div class="hint" id="csv-file-hint">
              A header line, then up to {MAX_IMPORT_ROWS.toLocaleString('en')} rows, saved as UTF-8. Each row finds its contact by
              contact id, external id or email (in that order) and updates it, or makes a new one; an empty cell leaves a field as it is.
            </div>
          </div>
          <div class="alert" role="alert" id="csv-problem" hidden />
          <div id="csv-mapping" hidden>
            <h2 id="mapping-title">Preview and columns</h2>
            <p id="csv-summary" />
            <div class="csv-preview" role="region" aria-labelledby="mapping-title" tabindex={0}>
              <table id="csv-table" />
            </div>
            <div class="field">
              <label for="csv-segment">Add every contact to a static segment</label>
              <select id="csv-segment">
                <option value="">No segment</option>
                {segments.filter((s) => s.type === 'static').map((s) => <option value={s.id}>{s.name}</option>)}
              </select>
            </div>
            <button type="button" id="csv-start">Import</button>
          </div>
          <div id="csv-sending" hidden>
            <label for="csv-sent">Sending rows</label>
            <progress id="csv-sent" max={1} value={0} />
            <p id="csv-sent-text" role="status" aria-live="polite" />
          </div>
          <PageData id="import-data" data={{ targets: targets(site), identifiers: IDENTIFIERS, chunkRows: CHUNK_ROWS, chunkBytes: MAX_CHUNK_BYTES, maxRows: MAX_IMPORT_ROWS }} />
        </section>
        <h2>Recent imports</h2>
        <Table
          columns={['File', 'Started', { label: 'Rows', num: true }, 'State']}
          label="Recent imports"
          empty="No imports yet."
          emptyText="Choose a CSV file above to start one: each import is listed here, with its progress and the rows it could not write."
        >
          {recent.map((i) => (
            <tr>
              <td><a href={`${base}/${i.id}`}>{i.name}</a></td>
              <td>{when(i.createdAt)}</td>
              <td class="num">{i.receivedRows.toLocaleString('en')}</td>
              <td>{i.finishedAt === null ? <Badge tone="info">Receiving rows</Badge> : <Badge tone="ok">Finished sending</Badge>}</td>
            </tr>
          ))}
        </Table>
      </>,
      { title: 'Import contacts', active: 'contacts', scripts: ['import'] },
    )
  })
  // The page script reads this page again while the queue writes; asked for JSON, the address answers as
  // the API does (importRoutes, below).
  .get('/:import', async (c, next) => {
    if (c.req.header('accept')?.includes('application/json')) return next()
    const site = c.get('site')
    let s: ImportStatus
    try {
      s = await importStatus(c.env, site, c.req.param('import'))
    } catch (err) {
      if (err instanceof Refusal && err.kind === 'not_found') return c.notFound()
      throw err
    }
    const segment = s.segment === null ? undefined : (await allSegments(c.env.DB, site.id)).find((x) => x.id === s.segment)
    const n = (x: number) => x.toLocaleString('en')
    return c.render(
      <>
        <PageHeader
          title={`Import of ${s.name}`}
          back={{ href: `/admin/sites/${site.id}/contacts/imports`, label: 'Imports' }}
          badge={s.status !== 'finished' ? <Badge tone="info">In progress</Badge> : s.rows.failed === 0 ? <Badge tone="ok">Finished</Badge> : <Badge tone="warn">Finished, rows not written</Badge>}
        />
        <Notice message={s.status === 'finished' && s.rows.failed === 0 ? 'Every row was written.' : undefined} />
        <section class="card" id="import-status" aria-labelledby="progress-label" data-status={s.status}>
          <label id="progress-label" for="import-progress">Rows written or refused</label>
          <progress id="import-progress" max={Math.max(1, s.rows.total)} value={s.rows.written + s.rows.failed}>
            {n(s.rows.written + s.rows.failed)} of {n(s.rows.total)}
          </progress>
          <p id="import-progress-text" role="status" aria-live="polite">{progressText(s)}</p>
          <p>
            Contacts created: <strong>{n(s.contacts.created)}</strong> · updated: <strong>{n(s.contacts.updated)}</strong>
            {segment && <> · added to <a href={`/admin/sites/${site.id}/segments/${segment.id}`}>{segment.name}</a></>}
          </p>
          <p class="hint">
            A chunk of up to {n(CHUNK_ROWS)} rows is written all or nothing: when a row is at fault, none of its chunk is
            written, and the rows at fault are listed below. Fix them and import those rows again.
          </p>
        </section>
        {s.errors.length > 0 && (
          <>
            <h2>Rows not written</h2>
            <p>{n(s.refusedRows)} rows at fault kept {n(s.rows.failed)} rows from being written{s.errors.length < s.refusedRows ? `; the first ${n(s.errors.length)} are listed` : ''}.</p>
            <Table columns={[{ label: 'Row', num: true }, 'Column', 'Problem']} empty="">
              {s.errors.map((e) => (
                <tr>
                  <td class="num">{n(e.row)}</td>
                  <td>{e.column ?? '—'}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </Table>
          </>
        )}
      </>,
      { title: `Import of ${s.name}`, active: 'contacts', scripts: s.status === 'finished' ? [] : ['import'] },
    )
  })
  .route('/', importRoutes)
