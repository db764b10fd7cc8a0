/**
 * Reading what requests send, for the admin API and the console alike: bodies that must be UTF-8 JSON
 * SQLite can keep as sent, zod failures turned into a `Refusal` with the field at fault, and URLs kept as a
 * browser follows them.
 */
import { type Context } from 'hono'
import { z } from 'zod'
import { safeUrl } from '../content/sanitize'
import { type Issue, refuse } from './errors'

/**
 * Reads the JSON body and validates it, refusing with 400 (bytes that are not UTF-8, malformed JSON,
 * text SQLite would not keep as sent, or a failed schema) before anything is written. The body size
 * limit is enforced earlier, by the router's bodyLimit.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parse(schema, parseBody(decodeUtf8(await c.req.arrayBuffer())))
}

/**
 * Decodes a request body, refusing with 400 bytes that are not UTF-8 rather than replacing them with
 * U+FFFD, which would store something other than what was sent.
 *
 * @example
 * decodeUtf8(new Uint8Array([0xed, 0xa0, 0x80])) // throws invalid_encoding (a surrogate written as UTF-8)
 */
export function decodeUtf8(bytes: ArrayBuffer | Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw refuse('invalid', 'invalid_encoding', 'The request body is not UTF-8')
  }
}

// A high surrogate without a low one after it, or a low one without a high one before it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
// JSON refuses raw control characters in strings and UTF-8 cannot encode a surrogate: only an escape puts either in.
const MAY_HOLD_BAD_TEXT = /\\u(?:0000|d[89a-f])/i

/**
 * JSON.parse for request bodies, refusing with 400 malformed JSON and text that SQLite would not keep as
 * sent, in a key or a value: a NUL character (its text functions stop there) or a lone UTF-16 surrogate
 * (D1 stores it as U+FFFD).
 *
 * @example
 * parseBody('{"name":"\\ud800"}') // throws invalid_text
 */
export function parseBody(text: string): unknown {
  let bad: 'nul' | 'surrogate' | undefined
  const check = (s: string) => {
    if (s.includes('\u0000')) bad ??= 'nul'
    else if (LONE_SURROGATE.test(s)) bad ??= 'surrogate'
  }
  let raw: unknown
  try {
    raw = MAY_HOLD_BAD_TEXT.test(text)
      ? JSON.parse(text, (key, value) => {
          check(key)
          if (typeof value === 'string') check(value)
          return value
        })
      : JSON.parse(text)
  } catch {
    throw refuse('invalid', 'invalid_json', 'The request body is not valid JSON')
  }
  if (bad === 'nul') throw refuse('invalid', 'invalid_text', 'Text must not contain NUL characters (\\u0000)')
  if (bad === 'surrogate') throw refuse('invalid', 'invalid_text', 'Text must not contain a lone surrogate (\\ud800–\\udfff outside a pair)')
  return raw
}

/** Validates a value that came from a request (body, query), refusing with 400, its issues and the field at fault. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, code = 'invalid_request'): z.output<S> {
  const r = schema.safeParse(value)
  if (!r.success) throw refuse('invalid', code, describeIssues(r.error.issues), issuesOf(r.error.issues))
  return r.data
}

/** zod's issues as a refusal's: each with its path, and the first path as the field at fault. */
export function issuesOf(issues: readonly z.core.$ZodIssue[]): { field?: string; issues: Issue[] } {
  const list = issues.slice(0, 20).map((i) => ({ path: formatPath(i.path), message: i.message }))
  return { field: list.find((i) => i.path !== '')?.path, issues: list }
}

export interface UrlTextOptions {
  /** The schemes allowed, as URL.protocol gives them: `https:`. */
  schemes: readonly string[]
  /** What the refusal says, after the path: `must be an http or https URL`. */
  message: string
  /** Characters at most, as sent and as kept. */
  max?: number
}

/**
 * A URL, given back as the URL parser writes it (scheme and host lower-cased, dot segments resolved,
 * spaces in the path percent-encoded): what is kept is what was checked, and what a browser follows.
 * Refused when it does not parse, has another scheme, or would change meaning (see safeUrl).
 *
 * @example
 * urlText({ schemes: ['http:', 'https:'], message: 'must be an http or https URL' }).parse('HTTP://Shop.Example/a/../b c')
 * // 'http://shop.example/b%20c'
 */
export function urlText({ schemes, message, max = 2048 }: UrlTextOptions) {
  return z
    .string()
    .max(max)
    .transform((value, ctx) => {
      const url = safeUrl(value, schemes)
      if (url === undefined) {
        ctx.addIssue({ code: 'custom', message, input: value })
        return z.NEVER
      }
      return url
    })
    .pipe(z.string().max(max, `must be at most ${max} characters once written as a URL`))
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
