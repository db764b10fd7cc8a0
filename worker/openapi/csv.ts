/**
 * The document's CSV in and out: imports (worker/contacts/import-routes.ts, with `importCreate`) and the
 * export (worker/contacts/routes.ts, with `exportQuery`).
 */
import { z } from '@hono/zod-openapi'
import { CHUNK_ROWS, MAX_CHUNK_BYTES, MAX_IMPORT_ROWS } from '../contacts/csv'
import { exportQuery } from '../contacts/routes'
import { importCreate } from '../contacts/schema'
import { type Operation } from './operation'
import { instant } from './shapes'

const count = z.number().int()

const rowError = z.object({
  row: count.meta({ description: "The row's number in the file: 1 is the first row after the header" }),
  column: z.string().nullable().meta({ description: 'The column at fault, by its name in the header; null when the row as a whole is' }),
  code: z.string(),
  message: z.string(),
})

const importStatus = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(['receiving', 'writing', 'finished']).meta({ description: 'Receiving until finished, writing while chunks wait for the queue, then finished' }),
    columns: z.array(z.object({ name: z.string(), field: z.string().nullable() })),
    segment: z.string().nullable(),
    rows: z.object({ total: count, received: count, written: count, failed: count, waiting: count }),
    contacts: z.object({ created: count, updated: count }),
    chunks: z.object({ received: count, written: count, failed: count, waiting: count }),
    refusedRows: count.meta({ description: 'Rows at fault; every row of a failed chunk counts as failed, as none of them was written' }),
    errors: z.array(rowError).meta({ description: 'The rows at fault: the first 100 of each of the first 10 failed chunks' }),
    nextSeq: count.meta({ description: 'The chunk the import takes next' }),
    createdAt: instant,
    finishedAt: instant.nullable(),
  })
  .openapi('Import')

const chunk = z
  .object({
    seq: count,
    firstRow: count,
    rows: count,
    status: z.enum(['queued', 'written', 'failed']),
    errors: z.array(rowError),
  })
  .openapi('ImportChunk')

const COLUMNS = [
  { name: 'Email', field: 'email' },
  { name: 'First name', field: 'firstName' },
  { name: 'Born', field: 'birthDate' },
  { name: 'Notes', field: null },
]
const RECEIVING = {
  id: 'imp_4k2x9q0m7v1c',
  name: 'customers.csv',
  status: 'receiving',
  columns: COLUMNS,
  segment: 'seg_vip',
  rows: { total: 2, received: 0, written: 0, failed: 0, waiting: 0 },
  contacts: { created: 0, updated: 0 },
  chunks: { received: 0, written: 0, failed: 0, waiting: 0 },
  refusedRows: 0,
  errors: [],
  nextSeq: 0,
  createdAt: '2026-11-22T08:00:00.000Z',
  finishedAt: null,
}
const FINISHED = {
  ...RECEIVING,
  status: 'finished',
  rows: { total: 2, received: 2, written: 2, failed: 0, waiting: 0 },
  contacts: { created: 1, updated: 1 },
  chunks: { received: 1, written: 1, failed: 0, waiting: 0 },
  nextSeq: 1,
  finishedAt: '2026-11-22T08:00:05.000Z',
}

const ID = { description: 'The import id, from the answer that started it', example: 'imp_4k2x9q0m7v1c' }
const MOVING = 'The site is moving to other shards: its contacts cannot change until it has arrived'

export const csvOperations: Operation[] = [
  {
    id: 'startContactImport',
    method: 'post',
    path: '/sites/:site/contacts/imports',
    tag: 'contacts',
    summary: 'Start a CSV import',
    description: `Names the file's columns in header order with the field each goes to (\`id\`, \`email\`, \`externalId\`, a system or custom field, or null to skip it; one of the three identifiers at least), the static segment its contacts join, if any, and how many rows will follow (${MAX_IMPORT_ROWS.toLocaleString('en')} at most). The rows follow in chunks.`,
    body: { schema: importCreate, examples: { customers: { value: { name: 'customers.csv', columns: COLUMNS, segment: 'seg_vip', rows: 2 } } } },
    ok: { status: 201, description: 'The import, receiving', schema: importStatus, examples: { customers: { value: RECEIVING } } },
    refusals: {
      400: 'Also a column mapped to a field an import cannot set, or twice; no identifier mapped',
      404: 'No such site or segment',
      409: `The segment is dynamic. ${MOVING}`,
      413: `Over ${MAX_IMPORT_ROWS.toLocaleString('en')} rows announced, or a body over 2 MB`,
    },
  },
  {
    id: 'getContactImport',
    method: 'get',
    path: '/sites/:site/contacts/imports/:import',
    tag: 'contacts',
    summary: "Read an import's progress",
    params: { import: ID },
    ok: { status: 200, description: 'Where the import stands', schema: importStatus, examples: { receiving: { value: RECEIVING }, finished: { value: FINISHED } } },
  },
  {
    id: 'sendContactImportChunk',
    method: 'put',
    path: '/sites/:site/contacts/imports/:import/chunks/:seq',
    tag: 'contacts',
    summary: 'Send a chunk of an import',
    description: `Chunks are numbered from 0 and taken in order; each is CSV text (RFC 4180, UTF-8) that starts with the import's header line and holds up to ${CHUNK_ROWS.toLocaleString('en')} rows (${MAX_CHUNK_BYTES.toLocaleString('en')} bytes). A chunk with a row at fault is kept as failed, with each such row's errors, and writes nothing; any other is queued and written all or nothing. The same chunk sent again is answered as the first time.`,
    params: { import: ID, seq: { description: 'The chunk number, from 0', example: '0' } },
    body: {
      schema: z.string().meta({ description: "CSV text: the import's header line, then the rows" }),
      contentType: 'text/csv',
      examples: { two: { value: 'Email,First name,Born,Notes\r\nana@example.com,Ana,1990-04-02,\r\nnoa@example.com,Noa,1995-02-11,met at the fair\r\n' } },
    },
    ok: {
      status: 202,
      description: 'Queued: the queue writes it',
      schema: chunk,
      examples: { queued: { value: { seq: 0, firstRow: 1, rows: 2, status: 'queued', errors: [] } } },
    },
    otherAnswers: [
      {
        status: 200,
        description: 'Settled: written, or failed with its rows at fault (nothing of it was written)',
        schema: chunk,
        examples: {
          failed: {
            value: { seq: 0, firstRow: 1, rows: 2, status: 'failed', errors: [{ row: 2, column: 'Born', code: 'invalid_value', message: 'must be a date written YYYY-MM-DD' }] },
          },
        },
      },
    ],
    refusals: {
      400: "Also a chunk that is not CSV, does not start with the import's header, holds no row, or would take the import past the rows it announced; a chunk number that is not a whole number",
      404: 'No such site or import',
      409: `Not the chunk the import expects next (\`error.nextSeq\`), a chunk sent before with other rows, or a finished import. ${MOVING}`,
      413: `Over ${MAX_CHUNK_BYTES.toLocaleString('en')} bytes or ${CHUNK_ROWS.toLocaleString('en')} rows`,
    },
  },
  {
    id: 'finishContactImport',
    method: 'post',
    path: '/sites/:site/contacts/imports/:import/finish',
    tag: 'contacts',
    summary: 'Finish an import',
    description: 'No more chunks come: the import is finished once the queue has written or refused those it has.',
    params: { import: ID },
    ok: { status: 200, description: 'Where the import stands', schema: importStatus, examples: { writing: { value: { ...FINISHED, status: 'writing', finishedAt: '2026-11-22T08:00:03.000Z', rows: { ...FINISHED.rows, written: 0, waiting: 2 }, contacts: { created: 0, updated: 0 }, chunks: { received: 1, written: 0, failed: 0, waiting: 1 } } } } },
    refusals: { 409: MOVING },
  },
  {
    id: 'exportContactsCsv',
    method: 'get',
    path: '/sites/:site/contacts/export.csv',
    tag: 'contacts',
    summary: 'Export contacts as CSV',
    description: "A segment's members, a search's matches (both: the members it matches), or every contact, in id order, streamed: a byte-order mark, the header line, then one line a contact with every field (RFC 4180; a value a spreadsheet would read as a formula starts with an apostrophe, which an import takes away again).",
    query: exportQuery,
    ok: {
      status: 200,
      description: 'The CSV file, as an attachment',
      contentType: 'text/csv',
      schema: z.string(),
      examples: {
        vip: {
          value: 'id,email,externalId,claimedEmail,claimedExternalId,firstName,lastName,birthDate,gender,country,city,phone,newsletter,language,favouriteGenre,createdAt,lastSeenAt\r\ndemo-ana,ana@example.com,,,,Ana,García,1990-04-02,,ES,,,,,rock,2026-11-20T09:30:00.000Z,\r\n',
        },
      },
    },
    refusals: { 404: 'No such site or segment' },
  },
]
