/**
 * Dates as fields, events and conditions take them: `YYYY-MM-DD` or an ISO 8601 date-time with a zone,
 * refused when the day does not exist. Pure.
 */
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/

/** True for a real calendar date written `YYYY-MM-DD`. */
export function isDateOnly(text: unknown): text is string {
  if (typeof text !== 'string') return false
  const m = DATE_ONLY.exec(text)
  return m !== null && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]))
}

/**
 * Epoch milliseconds of `YYYY-MM-DD` (midnight UTC) or an ISO 8601 date-time with a zone;
 * undefined for anything else, including dates that do not exist such as `2023-02-30`.
 *
 * @example
 * parseInstant('1981-01-01') // 347155200000
 * parseInstant('yesterday') // undefined
 */
export function parseInstant(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined
  const d = DATE_ONLY.exec(text)
  if (d) return isRealDate(Number(d[1]), Number(d[2]), Number(d[3])) ? Date.parse(text) : undefined
  const t = DATE_TIME.exec(text)
  if (!t || !isRealDate(Number(t[1]), Number(t[2]), Number(t[3]))) return undefined
  if (Number(t[4]) > 23 || Number(t[5]) > 59 || Number(t[6] ?? 0) > 59) return undefined
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? undefined : ms
}

function isRealDate(y: number, m: number, d: number): boolean {
  if (y < 0 || m < 1 || m > 12 || d < 1) return false
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
  return d <= days[m - 1]
}
