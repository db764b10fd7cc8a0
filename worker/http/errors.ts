import { type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { type ContentfulStatusCode } from 'hono/utils/http-status'

/** The body of every refusal: `{ "error": { "code", "message" } }`, sometimes with details. */
export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown }
}

/**
 * An HTTPException whose response is Segue's error shape.
 *
 * @example
 * throw apiError(404, 'segment_not_found', 'No segment "seg_x" on this site')
 */
export function apiError(
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): HTTPException {
  const body: ErrorBody = { error: { code, message, ...details } }
  return new HTTPException(status, { message, res: Response.json(body, { status }) })
}

export const notFound = (what: string, id: string) =>
  apiError(404, `${what}_not_found`, `No ${what.replace(/_/g, ' ')} "${id}" on this site`)

/** The one place errors become responses; anything unexpected is logged and answered with a plain 500. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof HTTPException) {
    const res = err.getResponse()
    if (res.headers.get('content-type')?.includes('application/json')) return res
    const status = err.status as ContentfulStatusCode
    return c.json<ErrorBody>({ error: { code: codeFor(status), message: err.message || 'Request refused' } }, status)
  }
  console.error('unexpected error', err)
  return c.json<ErrorBody>({ error: { code: 'internal', message: 'Something went wrong on our side' } }, 500)
}

function codeFor(status: number): string {
  return ({ 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 413: 'payload_too_large' } as Record<number, string>)[status] ?? 'error'
}
