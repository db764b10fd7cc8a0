/**
 * Refusals. Services say why they refuse in their own terms — a kind, a code, words, the field path at
 * fault and each issue found — by throwing a `Refusal`; only the edge of HTTP (`onError`, and the events
 * route, which adds CORS headers) turns one into a response. The console reads the same structure to put
 * each refusal beside its field.
 */
import { type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { type ContentfulStatusCode } from 'hono/utils/http-status'

/** The body of every refusal: `{ "error": { "code", "message", "field"?, "issues"? } }`, sometimes with details. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; issues?: Issue[]; [detail: string]: unknown }
}

export type RefusalKind = 'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'too_large' | 'rate_limited' | 'unavailable'

const STATUS: Record<RefusalKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
}

/** One thing wrong with a request: where (`fields.birthDate`, `conditions.all[0].value`) and what. */
export interface Issue {
  path: string
  message: string
}

export interface RefusalDetail {
  /** The field path at fault, when one is. */
  field?: string
  /** Each problem found, when there are several or they name their own paths. */
  issues?: Issue[]
  /** More for the answer's body (the rows of a batch, the node of a workflow, what uses a segment). */
  extra?: Record<string, unknown>
  /** Seconds to wait before trying again (429, 503). */
  retryAfter?: number
}

export class Refusal extends Error {
  constructor(
    readonly kind: RefusalKind,
    readonly code: string,
    message: string,
    readonly detail: RefusalDetail = {},
  ) {
    super(message)
    this.name = 'Refusal'
  }

  get status(): ContentfulStatusCode {
    return STATUS[this.kind]
  }
}

/**
 * A refusal to throw.
 *
 * @example
 * throw refuse('conflict', 'segment_name_taken', 'A segment named "VIP" already exists', { field: 'name' })
 */
export function refuse(kind: RefusalKind, code: string, message: string, detail: RefusalDetail = {}): Refusal {
  return new Refusal(kind, code, message, detail)
}

export const notFound = (what: string, id: string) =>
  refuse('not_found', `${what}_not_found`, `No ${what.replace(/_/g, ' ')} "${id}" on this site`)

/** A refusal as HTTP. */
export function refusalResponse(r: Refusal): Response {
  const { field, issues, extra, retryAfter } = r.detail
  const body: ErrorBody = { error: { code: r.code, message: r.message, ...(field ? { field } : {}), ...(issues?.length ? { issues } : {}), ...extra } }
  return Response.json(body, { status: r.status, headers: retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) } })
}

/** The one place errors become responses; anything unexpected is logged and answered with a plain 500. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof Refusal) return refusalResponse(err)
  if (err instanceof HTTPException) {
    // Hono's own middleware (the body limit, for one) refuses with its exceptions.
    const status = err.status as ContentfulStatusCode
    return c.json<ErrorBody>({ error: { code: codeFor(status), message: err.message || 'Request refused' } }, status)
  }
  console.error('unexpected error', err)
  return c.json<ErrorBody>({ error: { code: 'internal', message: 'Something went wrong on our side' } }, 500)
}

function codeFor(status: number): string {
  return ({ 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 413: 'payload_too_large' } as Record<number, string>)[status] ?? 'error'
}
