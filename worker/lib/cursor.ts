/**
 * Pagination cursors for the admin API's and the console's lists: the sort key of the last item, opaque to
 * the caller, refused with 400 unless this API made it.
 */
import { refuse } from '../http/errors'
import { fromBase64Url, toBase64Url } from './base64url'

/** An opaque pagination cursor: the sort key of the last item returned. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return toBase64Url(JSON.stringify(key))
}

/** Reads a cursor from a query string, refusing with 400 anything this API did not produce. */
export function decodeCursor(cursor: string | undefined, arity: number): (string | number)[] | undefined {
  if (cursor === undefined || cursor === '') return undefined
  try {
    const key: unknown = JSON.parse(new TextDecoder().decode(fromBase64Url(cursor)))
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' || typeof k === 'number')) return key
  } catch {
    // fall through to the refusal below
  }
  throw refuse('invalid', 'invalid_cursor', 'The cursor is not one this API returned')
}
