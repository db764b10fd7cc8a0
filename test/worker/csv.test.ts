/**
 * Contacts in and out as CSV, through the Worker: a segment exported from one site and imported into a new
 * one gives the same contacts and fields; an import reports each row at fault by number and column, writes
 * a chunk all or nothing, and refuses what it cannot take without writing anything; an export quotes as
 * RFC 4180 asks, guards formulas, reads its pages in index order and stays within an invocation's limits.
 */
import { env } from 'cloudflare:workers'
import Papa from 'papaparse'
import { beforeAll, describe, expect, it } from 'vitest'
import { cellValue } from '../../worker/contacts/csv'
import { type ImportStatus } from '../../worker/contacts/import'
import { type ContactRow, toContact } from '../../worker/data/contacts'
import { exportPage } from '../../worker/data/exports'
import { database } from '../../worker/data/shards'
import { Edge, faultyD1 } from './edge-harness'
import { ADMIN_TOKEN, dataOf, rowsOf } from './fixtures'
import { Usage, d1Bindings, instrumented } from './instrumented'

const edge = new Edge()
const FIELDS = [
  { key: 'plan', type: 'string' },
  { key: 'score', type: 'number' },
  { key: 'vip', type: 'boolean' },
  { key: 'renewal', type: 'date' },
]

async function createSite(id: string) {
  const res = await edge.admin('POST', '/sites', { id, name: id, allowedOrigins: ['https://shop.example'], fields: FIELDS, shards: 2 })
  expect(res.status).toBe(201)
}

/** Sends a chunk as an API client does: PUT, the CSV as the body. */
async function putChunk(site: string, importId: string, seq: number | string, body: string | Uint8Array) {
  const res = await edge.fetch(`/api/v1/sites/${site}/contacts/imports/${importId}/chunks/${seq}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' },
    body,
  })
  return { status: res.status, body: await res.json<any>() }
}

/** Runs the queue dry, as many invocations as it takes; the usage of each. */
async function drain(counted = false): Promise<Usage[]> {
  const used: Usage[] = []
  for (let round = 0; edge.queue.length > 0; round++) {
    if (round > 500) throw new Error('the queue does not drain')
    const usage = new Usage()
    await edge.flush(counted ? instrumented(edge.env, usage) : undefined)
    used.push(usage)
  }
  return used
}

const status = async (site: string, id: string) => (await edge.admin<ImportStatus>('GET', `/sites/${site}/contacts/imports/${id}`)).body

/** A CSV text of a header and rows, as the console writes a chunk. */
const csv = (header: string[], rows: string[][]) => Papa.unparse({ fields: header, data: rows }, { newline: '\r\n' })

/** Every contact of a site, by id, as the API shows their identifiers and fields. */
async function contactsOf(site: string) {
  const rows = await rowsOf<ContactRow>(site, 'SELECT * FROM contacts WHERE site_id = ?1', site)
  return new Map(rows.map(toContact).map((c) => [c.id, { email: c.email, externalId: c.externalId, fields: c.fields }]))
}

describe('a CSV round trip', () => {
  const A = 'csv-from'
  const B = 'csv-to'
  const SPECIAL = [
    { id: 'rt-formula', email: 'formula@example.com', fields: { firstName: '=HYPERLINK("http://evil.example","x")', lastName: '+33 6 12', city: '@home', plan: '-minus', score: -5, vip: false } },
    { id: 'rt-quotes', externalId: 'crm,1', fields: { firstName: 'Ana "Nena"', lastName: 'Line\r\nbreak', city: 'Zoë 🎸', plan: "'=already guarded", renewal: '2027-02-28' } },
    { id: '-dash', email: 'dash@example.com', fields: { phone: '\t0612', plan: 'tab', language: 'pt-BR', newsletter: 'subscribed', birthDate: '1990-04-02', gender: 'f', country: 'ES' } },
  ]
  const MANY = 2_500
  let exported = ''

  beforeAll(async () => {
    await createSite(A)
    await createSite(B)
    const many = Array.from({ length: MANY }, (_, i) => ({
      id: `rt-${String(i).padStart(5, '0')}`,
      email: `rt${i}@example.com`,
      ...(i % 3 === 0 ? { externalId: `crm-${i}` } : {}),
      fields: { firstName: `Name ${i}`, plan: i % 2 ? 'gold' : 'silver', score: i / 4, vip: i % 5 === 0, ...(i % 7 === 0 ? { renewal: '2027-01-15' } : {}) },
    }))
    const all = [...SPECIAL, ...many, { id: 'rt-no-plan', email: 'noplan@example.com' }]
    for (let i = 0; i < all.length; i += 1000) expect((await edge.admin('POST', `/sites/${A}/contacts/batch`, { contacts: all.slice(i, i + 1000) })).status).toBe(200)
    expect((await edge.admin('POST', `/sites/${A}/segments`, { id: 'seg_planned', name: 'Planned', type: 'dynamic', conditions: { all: [{ field: 'plan', op: 'exists' }] } })).status).toBe(201)
    expect((await edge.admin('POST', `/sites/${B}/segments`, { id: 'seg_imported', name: 'Imported', type: 'static' })).status).toBe(201)
    await drain()
  }, 120_000)

  it('exports a segment\'s members as an attachment, every field, in contact id order', async () => {
    const res = await edge.fetch(`/api/v1/sites/${A}/contacts/export.csv?segment=seg_planned`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="seg_planned-\d{4}-\d{2}-\d{2}\.csv"$/)
    const bytes = new Uint8Array(await res.arrayBuffer())
    // UTF-8 with a byte-order mark, which Excel needs to read it as UTF-8 (and which text() takes away).
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    exported = new TextDecoder().decode(bytes)
    expect(exported.startsWith('id,email,externalId,claimedEmail,claimedExternalId,firstName,lastName,birthDate,gender,country,city,phone,newsletter,language,plan,score,vip,renewal,createdAt,lastSeenAt\r\n')).toBe(true)
    const { data } = Papa.parse<string[]>(exported, { skipEmptyLines: true })
    const ids = data.slice(1).map((r) => cellValue(r[0]))
    expect(ids).toHaveLength(MANY + SPECIAL.length)
    expect(ids).not.toContain('rt-no-plan')
    expect(ids).toEqual([...ids].sort())
  })

  it('quotes as RFC 4180 asks and guards every cell a spreadsheet would run as a formula', () => {
    const line = (id: string) => exported.split('\r\n').find((l) => l.startsWith(`${id},`))!
    expect(line('rt-formula')).toBe(`rt-formula,formula@example.com,,,,"'=HYPERLINK(""http://evil.example"",""x"")",'+33 6 12,,,,'@home,,,,'-minus,-5,false,,${line('rt-formula').split(',').slice(-2).join(',')}`)
    expect(exported).toContain(`rt-quotes,,"crm,1",,,"Ana ""Nena""","Line\r\nbreak",,,,Zoë 🎸,,,,''=already guarded,,,2027-02-28,`)
    expect(exported).toContain(`'-dash,dash@example.com,,,,,,1990-04-02,f,ES,,'\t0612,subscribed,pt-BR,tab,`)
  })

  it('imports the export into a new site, with the same contacts and fields, all added to a static segment', async () => {
    const { data } = Papa.parse<string[]>(exported, { skipEmptyLines: true })
    const [header, ...rows] = data
    const importable = new Set(['id', 'email', 'externalId', 'firstName', 'lastName', 'birthDate', 'gender', 'country', 'city', 'phone', 'newsletter', 'language', 'plan', 'score', 'vip', 'renewal'])
    const created = await edge.admin('POST', `/sites/${B}/contacts/imports`, {
      name: 'planned.csv',
      columns: header.map((name) => ({ name, field: importable.has(name) ? name : null })),
      segment: 'seg_imported',
      rows: rows.length,
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ status: 'receiving', rows: { total: rows.length, received: 0 } })
    const id = created.body.id
    for (let seq = 0; seq * 1000 < rows.length; seq++) {
      const sent = await putChunk(B, id, seq, csv(header, rows.slice(seq * 1000, seq * 1000 + 1000)))
      expect(sent.status).toBe(202)
      expect(sent.body).toMatchObject({ seq, firstRow: seq * 1000 + 1, status: 'queued' })
    }
    expect((await edge.admin('POST', `/sites/${B}/contacts/imports/${id}/finish`)).body.status).toBe('writing')
    await drain()
    const done = await status(B, id)
    expect(done).toMatchObject({ status: 'finished', rows: { total: rows.length, received: rows.length, written: rows.length, failed: 0, waiting: 0 }, contacts: { created: rows.length, updated: 0 }, errors: [] })

    const [from, to] = [await contactsOf(A), await contactsOf(B)]
    from.delete('rt-no-plan')
    expect(to).toEqual(from)
    expect((await edge.admin('GET', `/sites/${B}/segments/seg_imported`)).body.members).toBe(rows.length)
  }, 60_000)

  it('imports the same file again as updates, changing nothing', async () => {
    const { data } = Papa.parse<string[]>(exported, { skipEmptyLines: true })
    const [header, ...rows] = data
    const created = await edge.admin('POST', `/sites/${B}/contacts/imports`, { columns: header.map((name) => ({ name, field: name === 'email' || name === 'plan' ? name : null })), rows: 10 })
    expect((await putChunk(B, created.body.id, 0, csv(header, rows.slice(0, 10)))).status).toBe(202)
    await edge.admin('POST', `/sites/${B}/contacts/imports/${created.body.id}/finish`)
    await drain()
    expect((await status(B, created.body.id)).contacts).toEqual({ created: 0, updated: 10 })
    const [from, to] = [await contactsOf(A), await contactsOf(B)]
    from.delete('rt-no-plan')
    expect(to).toEqual(from)
  })

  it('exports a search, or every contact, the same way', async () => {
    const search = await edge.fetch(`/api/v1/sites/${A}/contacts/export.csv?q=noplan`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    const lines = (await search.text()).split('\r\n').filter(Boolean)
    expect(lines).toHaveLength(2)
    expect(lines[1]).toMatch(/^rt-no-plan,noplan@example\.com,/)
    const every = await edge.fetch(`/api/v1/sites/${A}/contacts/export.csv`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    expect(every.headers.get('content-disposition')).toContain(`filename="${A}-`)
    expect(Papa.parse(await every.text(), { skipEmptyLines: true }).data).toHaveLength(1 + MANY + SPECIAL.length + 1)
  })

  it('reads each shard a page at a time in id order: about as many queries as pages, within the limits', async () => {
    const usage = new Usage()
    const res = await edge.fetch(`/api/v1/sites/${A}/contacts/export.csv`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, instrumented(edge.env, usage))
    await res.text()
    const pages = usage.statements.filter((s) => /ORDER BY id LIMIT/.test(s.sql))
    // 2,504 contacts over two shards: two pages each, the second short, and the site read once.
    expect(pages.length).toBe(4)
    expect(usage.d1Calls).toBe(5)
    expect(usage.kvOps).toBe(0)
  })

  it('refuses to export the members of a segment the site does not have', async () => {
    const res = await edge.admin('GET', `/sites/${A}/contacts/export.csv?segment=seg_nope`)
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('segment_not_found')
  })
})

describe('an import\'s rows at fault', () => {
  const S = 'csv-rows'
  const COLUMNS = [
    { name: 'Email', field: 'email' },
    { name: 'First name', field: 'firstName' },
    { name: 'Birth date', field: 'birthDate' },
    { name: 'Score', field: 'score' },
    { name: 'VIP', field: 'vip' },
    { name: 'Notes', field: null },
  ]
  const header = COLUMNS.map((c) => c.name)
  let id = ''

  beforeAll(async () => {
    await createSite(S)
    await edge.admin('POST', `/sites/${S}/contacts`, { id: 'owner', email: 'taken@example.com' })
    await drain()
    id = (await edge.admin('POST', `/sites/${S}/contacts/imports`, { name: 'people.csv', columns: COLUMNS, rows: 15 })).body.id
  })

  it('are reported by row number, column and words, and their chunk writes none of its rows', async () => {
    const rows = [
      ['ok1@example.com', 'Ok', '1990-01-01', '1', 'yes', 'fine'],
      ['not-an-email', 'Bad', '', '', '', ''],
      ['ok3@example.com', 'Date', '03/04/1990', '', '', ''],
      ['ok4@example.com', 'Ok', '', '2.5', 'no', ''],
      ['ok5@example.com', 'Score', '', 'abc', '', ''],
      ['', 'Nobody', '', '', '', 'no identifier'],
      ['ok7@example.com', 'Vip', '', '', 'maybe', ''],
    ]
    const sent = await putChunk(S, id, 0, `${csv(header, rows)}\r\nok8@example.com,Short\r\n`)
    expect(sent.status).toBe(200)
    expect(sent.body).toEqual({
      seq: 0, firstRow: 1, rows: 8, status: 'failed',
      errors: [
        { row: 2, column: 'Email', code: 'invalid_value', message: 'must be an email address' },
        { row: 3, column: 'Birth date', code: 'invalid_value', message: 'must be a date written YYYY-MM-DD' },
        { row: 5, column: 'Score', code: 'invalid_value', message: 'must be a number, written with a dot for decimals (1234.5)' },
        { row: 6, column: null, code: 'no_identifier', message: 'has no contact id, email or external id: a row needs one to find or make its contact' },
        { row: 7, column: 'VIP', code: 'invalid_value', message: 'must be true or false (or yes/no, 1/0)' },
        { row: 8, column: null, code: 'cells', message: 'has 2 cells where the header has 6' },
      ],
    })
    expect(edge.queue).toEqual([])
    expect((await contactsOf(S)).size).toBe(1)
  })

  it('found only against D1 (an email another row gives to another contact) refuse the chunk at the queue, whole', async () => {
    // Row 10 finds the contact that holds its email and would update it; row 11 gives row 9's email to a new contact.
    const sent = await putChunk(S, id, 1, csv(header, [['new1@example.com', 'One', '', '', '', ''], ['TAKEN@example.com', 'Two', '', '', '', ''], ['new1@example.com', 'Again', '', '', '', '']]))
    expect(sent.body).toMatchObject({ firstRow: 9, status: 'queued' })
    await drain()
    expect(await contactsOf(S)).toEqual(new Map([['owner', { email: 'taken@example.com', externalId: null, fields: {} }]]))
    expect((await status(S, id)).errors.slice(6)).toEqual([{ row: 11, column: 'Email', code: 'email_taken', message: 'Row 9 already gives this email to another contact' }])
  })

  it('leave the other chunks to be written, and the status counts every row', async () => {
    await putChunk(S, id, 2, csv(header, [['later@example.com', 'Later', '1985-06-30', '3', 'true', ''], ['owner-too@example.com', 'Ok', '', '', '', '']]))
    await edge.admin('POST', `/sites/${S}/contacts/imports/${id}/finish`)
    await drain()
    expect(await status(S, id)).toMatchObject({
      status: 'finished',
      rows: { total: 13, received: 13, written: 2, failed: 11, waiting: 0 },
      contacts: { created: 2, updated: 0 },
      chunks: { received: 3, written: 1, failed: 2, waiting: 0 },
      refusedRows: 7,
    })
    const later = [...(await contactsOf(S)).values()].find((c) => c.email === 'later@example.com')
    expect(later?.fields).toEqual({ firstName: 'Later', birthDate: '1985-06-30', score: 3, vip: true })
  })
})

describe('a chunk', () => {
  const S = 'csv-atomic'
  const header = ['id', 'email', 'plan']
  const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => [`atom-${from + i}`, `atom${from + i}@example.com`, 'gold'])

  beforeAll(async () => {
    await createSite(S)
    await edge.admin('POST', `/sites/${S}/segments`, { id: 'seg_atoms', name: 'Atoms', type: 'static' })
  })

  it('that D1 fails to write on one shard is written whole, once, when the queue tries again', async () => {
    const id = (await edge.admin('POST', `/sites/${S}/contacts/imports`, { columns: header.map((name) => ({ name, field: name })), segment: 'seg_atoms', rows: 200 })).body.id
    expect((await putChunk(S, id, 0, csv(header, rows(200)))).status).toBe(202)
    const failing = faultyD1(edge.env, ({ method, database }) => method === 'batch' && database === 'SHARD_2')
    expect(await edge.flush(failing)).toEqual({ acked: 0, retried: 1 })
    expect((await status(S, id)).rows).toMatchObject({ written: 0, waiting: 200 })
    await drain()
    const done = await status(S, id)
    expect(done.rows).toMatchObject({ written: 200, failed: 0, waiting: 0 })
    expect(done.contacts.created + done.contacts.updated).toBe(200)
    expect((await contactsOf(S)).size).toBe(200)
    expect((await edge.admin('GET', `/sites/${S}/segments/seg_atoms`)).body.members).toBe(200)
  })

  it('sent twice is taken once; one sent again with other rows is refused', async () => {
    const id = (await edge.admin('POST', `/sites/${S}/contacts/imports`, { columns: header.map((name) => ({ name, field: name })), rows: 10 })).body.id
    const text = csv(header, rows(5, 500))
    const first = await putChunk(S, id, 0, text)
    const again = await putChunk(S, id, 0, text)
    expect(again).toEqual(first)
    expect(edge.queue).toHaveLength(2)
    const other = await putChunk(S, id, 0, csv(header, rows(5, 600)))
    expect(other.status).toBe(409)
    expect(other.body.error).toMatchObject({ code: 'chunk_exists', nextSeq: 1 })
    await drain()
    expect((await status(S, id))).toMatchObject({ rows: { received: 5, written: 5 }, contacts: { created: 5, updated: 0 } })
  })
})
