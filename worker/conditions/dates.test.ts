/**
 * Durations (`30d`, `12h`) and dates as conditions read them: what parses, what is refused, durations in
 * words, and leap years.
 */
import { describe, expect, it } from 'vitest'
import { isDateOnly, parseInstant } from './dates'
import { describeDuration, parseDuration } from './durations'

describe('parseDuration', () => {
  it.each([['30d', 30 * 86_400_000], ['12h', 43_200_000], ['15m', 900_000], ['2w', 1_209_600_000]])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })
  it.each(['30x', '0d', 'd', '-1d', '1.5d', '30 d', '', 30])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })
  it('describes durations in words', () => {
    expect([describeDuration('30d'), describeDuration('1h'), describeDuration('2w')]).toEqual(['30 days', 'hour', '2 weeks'])
  })
})

describe('dates', () => {
  it('reads dates and date-times with a zone', () => {
    expect(parseInstant('1981-01-01')).toBe(Date.UTC(1981, 0, 1))
    expect(parseInstant('2026-06-15T12:30:00+02:00')).toBe(Date.UTC(2026, 5, 15, 10, 30))
  })
  it.each(['2023-02-30', '2023-13-01', '2024-02-30', '1990-1-1', '2026-06-15T12:30', 'yesterday', '2026-06-15T25:00:00Z'])('refuses %s', (text) => {
    expect(parseInstant(text)).toBeUndefined()
  })
  it('knows leap years', () => {
    expect(isDateOnly('2024-02-29')).toBe(true)
    expect(isDateOnly('2023-02-29')).toBe(false)
    expect(isDateOnly('1900-02-29')).toBe(false)
    expect(isDateOnly('2000-02-29')).toBe(true)
  })
})
