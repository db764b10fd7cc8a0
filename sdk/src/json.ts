/**
 * JSON for the plain data the SDK sends. Pages sometimes replace JSON.stringify or add toJSON to
 * Array.prototype (old libraries did); this writer uses neither, so the SDK's requests stay well formed.
 */
export function toJson(v: unknown): string {
  if (v == null) return 'null'
  if (typeof v === 'string') return quote(v)
  if (typeof v === 'number') return isFinite(v) ? '' + v : 'null'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  let out = ''
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + toJson(v[i])
    return '[' + out + ']'
  }
  for (const k in v as Record<string, unknown>) {
    const x = (v as Record<string, unknown>)[k]
    if (Object.prototype.hasOwnProperty.call(v, k) && x !== undefined) out += (out ? ',' : '') + quote(k) + ':' + toJson(x)
  }
  return '{' + out + '}'
}

function quote(s: string): string {
  return '"' + s.replace(/[\\"\u0000-\u001f\u2028\u2029]/g, (c) => '\\u' + ('000' + c.charCodeAt(0).toString(16)).slice(-4)) + '"'
}
