import { type Context } from 'hono'
import { type z } from 'zod'
import { apiError } from './errors'

/**
 * Reads the JSON body and validates it, refusing with 400 (malformed JSON or a failed schema) before
 * anything is written. The body size limit is enforced earlier, by the router's bodyLimit.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parse(schema, parseBody(await c.req.text()))
}

/**
 * JSON.parse for request bodies: malformed JSON and text holding a NUL character (which SQLite's text
 * functions would cut short) are refused with 400.
 */
export function parseBody(text: string): unknown {
  // Only the escape \u0000 can put a NUL in JSON text; without one, the plain (faster) parse suffices.
  const mayHoldNul = text.includes('\\u0000')
  let nul = false
  let raw: unknown
  try {
    raw = mayHoldNul
      ? JSON.parse(text, (key, value) => {
          if (key.includes('\u0000') || (typeof value === 'string' && value.includes('\u0000'))) nul = true
          return value
        })
      : JSON.parse(text)
  } catch {
    throw apiError(400, 'invalid_json', 'The request body is not valid JSON')
  }
  if (nul) throw apiError(400, 'invalid_text', 'Text must not contain NUL characters (\\u0000)')
  return raw
}

/** Validates a value that came from a request (body, query), refusing with 400 and the first problems. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, code = 'invalid_request'): z.output<S> {
  const r = schema.safeParse(value)
  if (!r.success) throw apiError(400, code, describeIssues(r.error.issues))
  return r.data
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${formatPath(i.path)}: ${i.message}` : i.message))
    .join('; ')
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('')
}
