/**
 * Durations such as `30d`, `12h` or `15m`, as conditions and workflow cooldowns write them: read as
 * milliseconds, or said in words for summaries. Pure.
 */
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const

const DURATION = /^([1-9][0-9]{0,5})(m|h|d|w)$/

/**
 * Milliseconds in a duration such as `30d`, `12h`, `15m` or `2w`; undefined when it is not one.
 *
 * @example
 * parseDuration('30d') // 2_592_000_000
 * parseDuration('30x') // undefined
 */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined
  const m = DURATION.exec(text)
  if (!m) return undefined
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
}

const DURATION_WORDS = { m: 'minute', h: 'hour', d: 'day', w: 'week' } as const

/** `30d` → `30 days`, `1h` → `hour` (as in "in the last hour"). */
export function describeDuration(text: string): string {
  const m = DURATION.exec(text)
  if (!m) return text
  const word = DURATION_WORDS[m[2] as keyof typeof DURATION_WORDS]
  return m[1] === '1' ? word : `${m[1]} ${word}s`
}
