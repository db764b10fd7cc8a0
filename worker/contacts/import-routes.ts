/**
 * CSV imports, `/api/v1/sites/:site/contacts/imports` (mounted by the contacts routes, and by the console
 * for its import page): start one with its mapping, send its chunks in order, finish it, and ask how far
 * it has come.
 */
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { type AppEnv } from '../app-env'
import { noProgress } from '../data/imports'
import { refuse } from '../http/errors'
import { readJson } from '../http/validate'
import { MAX_CHUNK_BYTES } from './csv'
import { createImport, finishImport, importJson, importStatus, receiveChunk } from './import'
import { importCreate } from './schema'

const SEQ = /^\d{1,6}$/

export const importRoutes = new Hono<AppEnv>()
  .post('/', async (c) => {
    const created = await createImport(c.env, c.get('site'), await readJson(c, importCreate))
    return c.json(importJson(created, noProgress()), 201)
  })
  .get('/:import', async (c) => c.json(await importStatus(c.env, c.get('site'), c.req.param('import'))))
  .put(
    '/:import/chunks/:seq',
    bodyLimit({
      maxSize: MAX_CHUNK_BYTES,
      onError: () => {
        throw refuse('too_large', 'chunk_too_large', `A chunk holds at most ${MAX_CHUNK_BYTES.toLocaleString('en')} bytes of CSV: send fewer rows a chunk`)
      },
    }),
    async (c) => {
      const seq = c.req.param('seq')
      if (!SEQ.test(seq)) throw refuse('invalid', 'invalid_request', 'The chunk number is a whole number from 0', { field: 'seq' })
      const { status, chunk } = await receiveChunk(c.env, c.get('site'), c.req.param('import'), Number(seq), await c.req.arrayBuffer())
      return c.json(chunk, status)
    },
  )
  .post('/:import/finish', async (c) => c.json(await finishImport(c.env, c.get('site'), c.req.param('import'))))
