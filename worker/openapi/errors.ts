/**
 * Refusals as the document shows them: the body every 4xx carries (worker/http/errors.ts writes it) and,
 * for each status the admin API answers with, what it means and an example.
 */
import { z } from '@hono/zod-openapi'
import { type Examples } from './operation'

const issue = z.object({ path: z.string(), message: z.string() })

/** One refused row of a batch (`rows`) or event of an import (`events`), by its index in the request. */
const refusedRow = z.object({
  index: z.number().int().min(0),
  code: z.string(),
  message: z.string(),
  field: z.string().optional(),
  issues: z.array(issue).optional(),
})

/** The body of every refusal; the details after `issues` appear only where their refusal says so. */
export const errorBody = z
  .object({
    error: z.looseObject({
      code: z.string().meta({ description: 'What went wrong, for programs: `invalid_request`, `segment_is_dynamic`…' }),
      message: z.string().meta({ description: 'What went wrong, for people' }),
      field: z.string().optional().meta({ description: 'The input at fault, as a path: `name`, `fields.birthDate`, `conditions.all[1]`' }),
      issues: z.array(issue).optional().meta({ description: 'Each problem found, with its path' }),
      node: z.string().optional().meta({ description: 'The workflow node at fault (`invalid_workflow`)' }),
      usedBy: z.array(z.object({ id: z.string(), name: z.string() })).optional().meta({ description: 'What uses the thing that cannot change or go (`segment_in_use`, `content_in_use`…)' }),
      rows: z.array(refusedRow).optional().meta({ description: 'The refused rows of a contact batch (`invalid_rows`)' }),
      events: z.array(refusedRow).optional().meta({ description: 'The refused events of an import (`invalid_events`)' }),
    }),
  })
  .openapi('Error', { description: 'A refusal: nothing was written.' })

export type RefusalStatus = 400 | 401 | 404 | 409 | 413 | 429 | 500

const refusal = (code: string, message: string, more: Record<string, unknown> = {}) => ({ error: { code, message, ...more } })

/** What each status means in the admin API, and the example shown with it. */
export const REFUSALS: Record<RefusalStatus, { description: string; examples: Examples }> = {
  400: {
    description: 'The request is malformed or fails its schema (bytes that are not UTF-8, JSON that does not parse, text with NUL characters, a value out of bounds)',
    examples: {
      invalid: {
        summary: 'A value fails its schema',
        value: refusal('invalid_request', 'name: must not be empty', { field: 'name', issues: [{ path: 'name', message: 'must not be empty' }] }),
      },
    },
  },
  401: {
    description: 'No admin token, or not the right one',
    examples: { unauthorized: { value: refusal('unauthorized', 'Send the admin token as "Authorization: Bearer <token>"') } },
  },
  404: {
    description: 'The site, or what the path names on it, does not exist',
    examples: { notFound: { value: refusal('site_not_found', 'No site "shop" on this site') } },
  },
  409: {
    description: 'The request conflicts with what is stored',
    examples: {
      moving: {
        summary: 'The site is moving to other shards',
        value: refusal('site_moving', 'Site "shop" is moving to SHARD_2: its contacts and segments cannot change until it has arrived (GET /api/v1/sites/shop shows when)'),
      },
    },
  },
  413: {
    description: 'The body is over 2 MB, or the batch holds more rows than a request may',
    examples: { tooLarge: { value: refusal('payload_too_large', 'Request bodies are limited to 2 MB') } },
  },
  429: {
    description: 'Too many requests; `Retry-After` says how many seconds to wait',
    examples: { rateLimited: { value: refusal('rate_limited', 'Too many requests from this client') } },
  },
  500: {
    description: 'The deployment is not configured safely (its secrets are missing, short or the examples), or something failed on the server',
    examples: {
      misconfigured: {
        value: refusal('misconfigured', 'This Segue deployment is not configured safely: ADMIN_TOKEN is not set. Set them with `wrangler secret put` (see the README\'s "Deploying").'),
      },
    },
  },
}
