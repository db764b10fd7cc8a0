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
import { getImport, importChunk, importProgress, joinSegment, recentImports, settleChunk, stageChunk } from '../../worker/data/imports'
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

describe('refusals', () => {
  const S = 'csv-refuse'
  const COLUMNS = [{ name: 'Email', field: 'email' }, { name: 'Plan', field: 'plan' }]
  const header = ['Email', 'Plan']
  const nothingKept = async () => {
    expect(await rowsOf(S, 'SELECT id FROM contacts WHERE site_id = ?1', S)).toEqual([])
    expect(edge.queue).toEqual([])
  }

  beforeAll(async () => {
    await createSite(S)
    await edge.admin('POST', `/sites/${S}/segments`, { id: 'seg_static', name: 'Static', type: 'static' })
    await edge.admin('POST', `/sites/${S}/segments`, { id: 'seg_dynamic', name: 'Dynamic', type: 'dynamic', conditions: { all: [{ field: 'plan', op: 'exists' }] } })
    await drain()
  })

  it.each([
    ['a field the site does not have', { columns: [...COLUMNS, { name: 'Shoe', field: 'shoeSize' }], rows: 1 }, 400, 'invalid_mapping', 'columns[2].field'],
    ['a field Segue sets', { columns: [...COLUMNS, { name: 'Created', field: 'createdAt' }], rows: 1 }, 400, 'invalid_mapping', 'columns[2].field'],
    ['a field mapped twice', { columns: [...COLUMNS, { name: 'Mail', field: 'email' }], rows: 1 }, 400, 'invalid_mapping', 'columns[2].field'],
    ['no identifier', { columns: [{ name: 'Plan', field: 'plan' }], rows: 1 }, 400, 'no_identifier', 'columns'],
    ['a segment the site does not have', { columns: COLUMNS, rows: 1, segment: 'seg_nope' }, 404, 'segment_not_found', 'segment'],
    ['a dynamic segment', { columns: COLUMNS, rows: 1, segment: 'seg_dynamic' }, 409, 'segment_is_dynamic', 'segment'],
    ['more than 100,000 rows', { columns: COLUMNS, rows: 100_001 }, 413, 'too_many_rows', 'rows'],
    ['no rows', { columns: COLUMNS, rows: 0 }, 400, 'invalid_request', 'rows'],
    ['an unknown key', { columns: COLUMNS, rows: 1, delimiter: ';' }, 400, 'invalid_request', undefined],
  ])('an import with %s is refused, and none is made', async (_name, body, code, error, field) => {
    const res = await edge.admin('POST', `/sites/${S}/contacts/imports`, body)
    expect([res.status, res.body.error.code, res.body.error.field]).toEqual([code, error, field])
    expect(await env.DB.prepare('SELECT count(*) AS n FROM imports WHERE site_id = ?1').bind(S).first('n')).toBe(0)
  })

  it('refuses chunks it cannot take, keeping nothing of them', async () => {
    const id = (await edge.admin('POST', `/sites/${S}/contacts/imports`, { columns: COLUMNS, rows: 3 })).body.id
    const refusals: Array<[string, number | string, string | Uint8Array, number, string]> = [
      ['out of order', 1, csv(header, [['a@example.com', 'x']]), 409, 'chunk_out_of_order'],
      ['another header', 0, csv(['Email', 'Plan', 'More'], [['a@example.com', 'x', 'y']]), 400, 'header_mismatch'],
      ['a header alone', 0, 'Email,Plan\r\n', 400, 'empty_chunk'],
      ['a quote left open', 0, 'Email,Plan\r\n"a@example.com,x\r\nb@example.com,y\r\n', 400, 'invalid_csv'],
      ['bytes that are not UTF-8', 0, new Uint8Array([0x45, 0x6d, 0x61, 0x69, 0x6c, 0x2c, 0x50, 0x6c, 0x61, 0x6e, 0x0a, 0xff, 0x2c, 0x78]), 400, 'invalid_encoding'],
      ['a NUL character', 0, 'Email,Plan\r\na@example.com,x\u0000\r\n', 400, 'invalid_text'],
      ['more rows than announced', 0, csv(header, [['a@example.com', 'x'], ['b@example.com', 'x'], ['c@example.com', 'x'], ['d@example.com', 'x']]), 400, 'too_many_rows'],
      ['more than 1 MB', 0, `Email,Plan\r\na@example.com,${'x'.repeat(1_000_001)}\r\n`, 413, 'chunk_too_large'],
      ['a number that is not one', 'first', csv(header, [['a@example.com', 'x']]), 400, 'invalid_request'],
    ]
    for (const [name, seq, body, code, error] of refusals) {
      const res = await putChunk(S, id, seq, body)
      expect([name, res.status, res.body.error?.code]).toEqual([name, code, error])
    }
    expect((await putChunk(S, 'imp_nope', 0, csv(header, [['a@example.com', 'x']]))).body.error.code).toBe('import_not_found')
    const big = (await edge.admin('POST', `/sites/${S}/contacts/imports`, { columns: COLUMNS, rows: 2_000 })).body.id
    const tooMany = await putChunk(S, big, 0, csv(header, Array.from({ length: 1_001 }, (_, i) => [`r${i}@example.com`, 'x'])))
    expect([tooMany.status, tooMany.body.error.code]).toEqual([413, 'too_many_rows'])
    expect(await status(S, id)).toMatchObject({ status: 'receiving', nextSeq: 0, rows: { received: 0, written: 0, failed: 0 }, chunks: { received: 0 } })
    expect(await env.DB.prepare('SELECT count(*) AS n FROM import_chunks WHERE site_id = ?1').bind(S).first('n')).toBe(0)
    await nothingKept()
  })

  it('takes no chunk once finished, and a moving site takes no import', async () => {
    const id = (await edge.admin('POST', `/sites/${S}/contacts/imports`, { columns: COLUMNS, rows: 3 })).body.id
    expect((await edge.admin('POST', `/sites/${S}/contacts/imports/${id}/finish`)).body).toMatchObject({ status: 'finished', rows: { total: 0 } })
    const late = await putChunk(S, id, 0, csv(header, [['a@example.com', 'x']]))
    expect([late.status, late.body.error.code]).toEqual([409, 'import_finished'])
    await env.DB.prepare('UPDATE sites SET moving_to = ?2 WHERE site_id = ?1').bind(S, JSON.stringify(['SHARD_1'])).run()
    try {
      const moving = await edge.admin('POST', `/sites/${S}/contacts/imports`, { columns: COLUMNS, rows: 1 })
      expect([moving.status, moving.body.error.code]).toEqual([409, 'site_moving'])
    } finally {
      await env.DB.prepare('UPDATE sites SET moving_to = NULL WHERE site_id = ?1').bind(S).run()
    }
    await nothingKept()
  })
})

describe('what an import costs', () => {
  const S = 'csv-cost'
  const header = ['id', 'email', 'plan']

  beforeAll(async () => {
    await createSite(S)
    await edge.admin('POST', `/sites/${S}/segments`, { id: 'seg_cost', name: 'Cost', type: 'static' })
  })

  it('takes a chunk in 3 D1 calls and one queue send, and answers its status in 3', async () => {
    const id = (await edge.admin('POST', `/sites/${S}/contacts/imports`, { columns: header.map((name) => ({ name, field: name })), segment: 'seg_cost', rows: 1_000 })).body.id
    const usage = new Usage()
    const res = await edge.fetch(`/api/v1/sites/${S}/contacts/imports/${id}/chunks/0`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: csv(header, Array.from({ length: 1_000 }, (_, i) => [`cost-${i}`, `cost${i}@example.com`, 'gold'])),
    }, instrumented(edge.env, usage))
    expect(res.status).toBe(202)
    // The site, the import, then the chunk staged in one batch.
    expect([usage.d1Calls, usage.kvOps, usage.queueSends]).toEqual([3, 0, 1])
    usage.reset()
    await edge.fetch(`/api/v1/sites/${S}/contacts/imports/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, instrumented(edge.env, usage))
    expect([usage.d1Calls, usage.kvOps]).toEqual([3, 0])
    await drain()
  })

  it('writes a full queue batch of chunks ten an invocation, each within its budgeted cost', async () => {
    const { IMPORT_CHUNKS_AN_INVOCATION, importCost } = await import('../../worker/background/budget')
    const id = (await edge.admin('POST', `/sites/${S}/contacts/imports`, { columns: header.map((name) => ({ name, field: name })), segment: 'seg_cost', rows: 100 * 20 })).body.id
    for (let seq = 0; seq < 100; seq++) {
      const rows = Array.from({ length: 20 }, (_, i) => [`batch-${seq}-${i}`, `batch${seq}.${i}@example.com`, 'silver'])
      expect((await putChunk(S, id, seq, csv(header, rows))).status).toBe(202)
    }
    const used = await drain(true)
    const limits = used.map((u) => u.d1Calls <= 1_000 && u.kvOps <= 1_000)
    expect(limits.every(Boolean)).toBe(true)
    // The first invocation takes ten chunks (their D1 cost alone would let 67 in) and sends the rest on.
    const chunksFirst = used[0].statements.filter((s) => /UPDATE import_chunks SET status/.test(s.sql)).length
    expect(chunksFirst).toBe(IMPORT_CHUNKS_AN_INVOCATION)
    expect(used[0].d1Calls).toBeLessThanOrEqual(chunksFirst * importCost(2).d1)
    expect(used).toHaveLength(10)
    expect((await status(S, id)).rows).toMatchObject({ written: 2_000, failed: 0, waiting: 0 })
    expect((await edge.admin('GET', `/sites/${S}/segments/seg_cost`)).body.members).toBe(3_000)
    console.log(`import: ${chunksFirst} chunks in the first invocation, ${used[0].d1Calls} D1 calls (${(used[0].d1Calls / chunksFirst).toFixed(1)} a chunk, budget ${importCost(2).d1}), ${used[0].kvOps} KV operations; ${used.length} invocations in all`)
  }, 120_000)
})

describe('query plans and rows read, on a loaded site', () => {
  const S = 'csv-load'
  const CONTACTS = 20_000
  const cid = (i: number) => `load-${String(i).padStart(6, '0')}`
  const IMPORT = 'imp_loaded'

  beforeAll(async () => {
    await createSite(S)
    await edge.admin('POST', `/sites/${S}/segments`, { id: 'seg_half', name: 'Half', type: 'static' })
    const now = Date.now()
    const data = await dataOf(S)
    for (let from = 0; from < CONTACTS; from += 2_000) {
      const people = Array.from({ length: 2_000 }, (_, k) => ({ id: cid(from + k), e: `${cid(from + k)}@example.com`, f: (from + k) % 10 === 0 ? 'Rare' : 'Common', half: (from + k) % 2 === 0 }))
      for (const [{ db }, list] of data.group(people, (p) => p.id)) {
        await db.batch([
          db.prepare(`INSERT INTO contacts (site_id, id, email, first_name, custom, created_at) SELECT ?1, r.value ->> '$.id', r.value ->> '$.e', r.value ->> '$.f', '{}', ?2 FROM json_each(?3) r`).bind(S, now, JSON.stringify(list)),
          db.prepare(`INSERT INTO segment_members (site_id, segment_id, contact_id, since, source) SELECT ?1, 'seg_half', r.value ->> '$.id', ?2, 'manual' FROM json_each(?3) r WHERE r.value ->> '$.half'`).bind(S, now, JSON.stringify(list)),
        ])
      }
    }
    // Another site's import with many chunks beside this one's, and this one's with 100.
    await env.DB.batch([
      env.DB.prepare(`INSERT INTO imports (site_id, id, name, columns, total_rows, next_seq, received_rows, created_at) VALUES (?1, ?2, 'loaded.csv', '[]', 100000, 100, 100000, ?3)`).bind(S, IMPORT, now),
      env.DB.prepare(`INSERT INTO import_chunks (site_id, import_id, seq, first_row, rows, digest, status, refused, errors, created_at)
        SELECT ?1, ?2, value, value * 1000 + 1, 1000, 'd' || value, CASE WHEN value % 10 = 0 THEN 'failed' ELSE 'written' END, 0, '[]', ?3 FROM generate_series(0, 99)`).bind(S, IMPORT, now),
    ]).catch(async () => {
      // Without generate_series: the chunks one statement each.
      await env.DB.prepare(`INSERT INTO imports (site_id, id, name, columns, total_rows, next_seq, received_rows, created_at) VALUES (?1, ?2, 'loaded.csv', '[]', 100000, 100, 100000, ?3)`).bind(S, IMPORT, now).run()
      await env.DB.batch(Array.from({ length: 100 }, (_, seq) => env.DB.prepare(`INSERT INTO import_chunks (site_id, import_id, seq, first_row, rows, digest, status, refused, errors, created_at) VALUES (?1, ?2, ?3, ?4, 1000, ?5, ?6, 0, '[]', ?7)`).bind(S, IMPORT, seq, seq * 1000 + 1, `d${seq}`, seq % 10 === 0 ? 'failed' : 'written', now)))
    })
  }, 120_000)

  /** The plan of a statement D1 ran, and the rows it read running again, on the database that ran it. */
  async function measured(s: { sql: string; args: unknown[]; database: string }) {
    const db = database(env, s.database)
    const plan = (await db.prepare(`EXPLAIN QUERY PLAN ${s.sql}`).bind(...s.args).all<{ detail: string }>()).results.map((r) => r.detail).join(' | ')
    const { results, meta } = await db.prepare(s.sql).bind(...s.args).all()
    return { plan, rowsRead: meta.rows_read, rows: results.length }
  }

  it('an export page seeks its place in the primary key and reads about the rows it gives, however far in', async () => {
    const usage = new Usage()
    const shard = (await dataOf(S)).shards[0]
    const db = database(instrumented(env, usage), shard.name)
    const cases = [
      ['every contact', {}, cid(CONTACTS / 2), 1.1],
      ['a segment', { segment: 'seg_half' }, cid(CONTACTS / 2), 2.2],
      ['a search one contact in ten matches', { q: 'Rare' }, '', 11],
    ] as const
    for (const analyzed of [false, true]) {
      if (analyzed) for (const name of d1Bindings(env)) await database(env, name).prepare('ANALYZE').run()
      for (const [name, filter, after, perRow] of cases) {
        usage.reset()
        await exportPage(db, S, filter, after, 1_000)
        const { plan, rowsRead, rows } = await measured(usage.statements[0])
        expect(rows).toBeGreaterThan(500)
        expect(plan).toMatch(/^SEARCH (contacts|m) USING PRIMARY KEY \(site_id=\? AND (id>\?|segment_id=\? AND contact_id>\?)\)/)
        expect(plan).not.toMatch(/TEMP B-TREE/)
        expect(rowsRead / rows).toBeLessThanOrEqual(perRow)
        console.log(`export page, ${name}${analyzed ? ' (analyzed)' : ''}: rows_read ${rowsRead} for ${rows} contacts; ${plan}`)
      }
    }
    for (const name of d1Bindings(env)) await database(env, name).prepare('DROP TABLE IF EXISTS sqlite_stat1').run().catch(() => undefined)
  })

  it('an import\'s statements read through its own keys: its chunks at most, whatever else the tables hold', async () => {
    const usage = new Usage()
    const db = instrumented(env, usage).DB
    await getImport(db, S, IMPORT)
    await importChunk(db, S, IMPORT, 57)
    await importProgress(db, S, IMPORT, 10)
    await recentImports(db, S, 20)
    await db.batch(stageChunk(db, S, IMPORT, { seq: 100, rows: 1, digest: 'x', csv: 'a' }, Date.now()))
    await settleChunk(db, S, IMPORT, 100, { status: 'written', created: 1, updated: 0 }).run()
    await joinSegment(database(instrumented(env, usage), 'SHARD_1'), S, 'seg_half', [cid(0), cid(2)], Date.now()).run()
    const report: string[] = []
    for (const s of usage.statements) {
      const { plan, rowsRead } = await measured(s)
      expect(plan).not.toMatch(/SCAN (imports|import_chunks|segment_members|i|c)\b/)
      // The sums and errors of an import read its 100 chunks (and the other site's none).
      expect(rowsRead).toBeLessThanOrEqual(2 * 101)
      report.push(`${s.sql.replace(/\s+/g, ' ').slice(0, 50)}…: rows_read ${rowsRead}; ${plan}`)
    }
    console.log(report.join('\n'))
  })
})

describe('the console', () => {
  const S = 'csv-console'
  let cookie = ''
  let csrf = ''
  const page = (path: string, headers: Record<string, string> = {}) => edge.fetch(`/admin/sites/${S}${path}`, { headers: { cookie, ...headers }, redirect: 'manual' })

  beforeAll(async () => {
    await createSite(S)
    await edge.admin('POST', `/sites/${S}/segments`, { id: 'seg_list', name: 'List <b>', type: 'static' })
    await edge.admin('POST', `/sites/${S}/contacts/batch`, { contacts: [{ id: 'con-1', email: 'one@example.com', fields: { firstName: '=cmd' } }, { id: 'con-2', email: 'two@example.com' }] })
    await drain()
    cookie = await edge.consoleCookie('192.0.2.150')
    csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(await (await page('/contacts')).text())![1]
  })

  it('offers Import CSV and an Export CSV of the search shown', async () => {
    const html = await (await page('/contacts?q=one')).text()
    expect(html).toContain(`href="/admin/sites/${S}/contacts/imports"`)
    expect(html).toContain(`href="/admin/sites/${S}/contacts/export.csv?q=one" download`)
    const res = await page('/contacts/export.csv?q=one')
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="csv-console-/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const text = await res.text()
    expect(text.split('\r\n')[1]).toMatch(/^con-1,one@example\.com,,,,'=cmd,/)
    expect((await page('/contacts/export.csv?segment=seg_list')).status).toBe(200)
    expect((await page('/contacts/export.csv?segment=seg_nope')).status).toBe(404)
  })

  it('draws the import page with the fields a column can go to and the static segments', async () => {
    const html = await (await page('/contacts/imports')).text()
    expect(html).toContain('<script src="/console/import.js" defer="">')
    expect(html).toContain('<option value="seg_list">List &lt;b&gt;</option>')
    const data = JSON.parse(/<script type="application\/json" id="import-data">(.*?)<\/script>/.exec(html)![1])
    expect(data.targets.slice(0, 4)).toEqual([{ key: 'id', label: 'Contact id' }, { key: 'email', label: 'Email' }, { key: 'externalId', label: 'External id' }, { key: 'firstName', label: 'First name' }])
    expect(data.targets.map((t: { key: string }) => t.key)).toContain('renewal')
  })

  it('starts and feeds an import through the API\'s routes with the session and its CSRF token, and shows its progress bar', async () => {
    const json = (method: string, path: string, body: string, type = 'application/json', token = csrf) =>
      edge.fetch(`/admin/sites/${S}/contacts/imports${path}`, { method, body, headers: { cookie, 'content-type': type, accept: 'application/json', 'x-csrf-token': token } })
    expect((await json('POST', '', JSON.stringify({ columns: [{ name: 'Email', field: 'email' }], rows: 2 }), 'application/json', 'forged')).status).toBe(403)
    const created = await json('POST', '', JSON.stringify({ name: 'two.csv', columns: [{ name: 'Email', field: 'email' }, { name: 'Plan', field: 'plan' }], rows: 2, segment: 'seg_list' }))
    expect(created.status).toBe(201)
    const { id } = await created.json<{ id: string }>()
    expect((await json('PUT', `/${id}/chunks/0`, 'Email,Plan\r\nthree@example.com,gold\r\n', 'text/csv')).status).toBe(202)
    let html = await (await page(`/contacts/imports/${id}`)).text()
    expect(html).toContain('<progress id="import-progress" max="2" value="0">')
    expect(html).toContain('Receiving rows: 0 of 2 rows done (0 written)')
    expect(html).toContain('<script src="/console/import.js" defer="">')
    expect((await (await page(`/contacts/imports/${id}`, { accept: 'application/json' })).json<{ status: string }>()).status).toBe('receiving')
    expect((await json('POST', `/${id}/finish`, '')).status).toBe(200)
    await drain()
    html = await (await page(`/contacts/imports/${id}`)).text()
    expect(html).toContain('<progress id="import-progress" max="1" value="1">')
    expect(html).toContain('Finished: 1 of 1 rows done (1 written)')
    expect(html).toContain('Every row was written.')
    expect(html).not.toContain('/console/import.js')
    expect((await page('/contacts/imports')).status).toBe(200)
    expect(await (await page('/contacts/imports')).text()).toContain(`href="/admin/sites/${S}/contacts/imports/${id}">two.csv</a>`)
  })

  it('lists the rows a chunk was refused for, by row, column and problem', async () => {
    const created = await edge.admin('POST', `/sites/${S}/contacts/imports`, { name: 'bad.csv', columns: [{ name: 'Email', field: 'email' }, { name: 'Score', field: 'score' }], rows: 2 })
    const id = created.body.id
    await putChunk(S, id, 0, 'Email,Score\r\nfour@example.com,12\r\nfive@example.com,lots\r\n')
    await edge.admin('POST', `/sites/${S}/contacts/imports/${id}/finish`)
    const html = await (await page(`/contacts/imports/${id}`)).text()
    expect(html).toContain('Finished: 2 of 2 rows done (0 written, 2 not written)')
    expect(html).toMatch(/<td class="num">2<\/td><td>Score<\/td><td>must be a number, written with a dot for decimals \(1234\.5\)<\/td>/)
    expect((await page('/contacts/imports/imp_nope')).status).toBe(404)
  })
})
