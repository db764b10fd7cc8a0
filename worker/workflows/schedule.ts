/**
 * Schedules for workflows and content: when something may run or show, decided on each request from the
 * request's instant and the site's time zone, with no cron.
 *
 * Every local time in a schedule names the first instant at which the site's clock reads that time or
 * later. So a time skipped by a spring-forward gap takes effect at the first instant after the gap, and a
 * time the clock shows twice at a fall-back takes effect at its first occurrence. A schedule is therefore
 * judged against the latest reading the clock has shown so far: during the repeated hour after a fall-back
 * that reading stays at the last instant before the change (01:59:59.999 in New York) until the clock
 * catches up, so a window never closes and reopens, nor a start un-starts, when the clock goes back.
 *
 * Weekly windows match the local weekday and time of that reading. `from` is inclusive and `to` exclusive;
 * `to` may be 24:00, and a `to` earlier than `from` makes an overnight window that ends on the next day
 * (`days` name the day it opens: fri 22:00–02:00 runs into Saturday morning).
 */
import { z } from 'zod'

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type Weekday = (typeof WEEKDAYS)[number]

export interface WeeklyWindow {
  days: Weekday[]
  /** `HH:MM`, 00:00–23:59, inclusive. */
  from: string
  /** `HH:MM`, 00:00–24:00, exclusive; earlier than `from` for a window that runs past midnight. */
  to: string
}

export interface Schedule {
  /** `YYYY-MM-DDTHH:MM` or `YYYY-MM-DD` (midnight) in the site's time zone, inclusive. */
  start?: string
  /** As `start`, exclusive. */
  end?: string
  weekly?: WeeklyWindow[]
}

const MINUTE = 60_000
const DAY = 86_400_000
const MAX_WINDOWS = 20
// IANA names only: Intl on newer runtimes also takes offsets such as "+02:00", which carry no DST rules.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/
// Formatters cost tens of microseconds to build; names are bounded by the IANA list, this only guards
// against a caller feeding arbitrary strings.
const MAX_ZONES = 1000

/**
 * Whether `now` (ms since the epoch) falls inside `schedule` in `timeZone`. No schedule means always; a
 * malformed date or time in it, or an unknown time zone, means never rather than a throw.
 *
 * @example inSchedule({ weekly: [{ days: ['mon', 'tue'], from: '09:00', to: '17:30' }] }, Date.now(), 'Europe/Madrid')
 */
export function inSchedule(schedule: Schedule | undefined, now: number, timeZone: string): boolean {
  if (schedule === undefined) return true
  const zone = zoneFor(timeZone)
  if (zone === undefined || !Number.isFinite(now)) return false
  const reading = clockReading(zone, now)
  if (schedule.start !== undefined && !(reading >= parseLocal(schedule.start))) return false
  if (schedule.end !== undefined && !(reading < parseLocal(schedule.end))) return false
  return schedule.weekly === undefined || inWeekly(schedule.weekly, reading)
}

function inWeekly(windows: WeeklyWindow[], reading: number): boolean {
  const day = Math.floor(reading / DAY)
  const time = reading - day * DAY
  // Day 0 of the epoch, 1970-01-01, was a Thursday.
  const today = WEEKDAYS[(((day + 3) % 7) + 7) % 7]
  const yesterday = WEEKDAYS[(((day + 2) % 7) + 7) % 7]
  for (const window of windows) {
    const from = clockMs(window.from)
    const to = clockMs(window.to)
    if (from < to) {
      if (time >= from && time < to && window.days.includes(today)) return true
    } else if (from > to) {
      if (time >= from && window.days.includes(today)) return true
      if (time < to && window.days.includes(yesterday)) return true
    }
  }
  return false
}

/** A local `YYYY-MM-DD[THH:MM]` as ms of a UTC clock showing the same reading; NaN when malformed. */
function parseLocal(text: string): number {
  if (typeof text !== 'string' || (text.length !== 10 && text.length !== 16) || text[4] !== '-' || text[7] !== '-') return NaN
  const year = digitsAt(text, 0, 4)
  const month = digitsAt(text, 5, 2)
  const day = digitsAt(text, 8, 2)
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month))) return NaN
  const time = text.length === 10 ? 0 : text[10] === 'T' ? clockAt(text, 11) : NaN
  if (!(time < DAY)) return NaN
  // Date.UTC reads years 0–99 as 1900–1999; a 400-year Gregorian cycle is exactly 146,097 days.
  return Date.UTC(year + 400, month - 1, day) - 146_097 * DAY + time
}

/** `HH:MM`, 00:00–24:00, as ms into the day; NaN when malformed, which matches nothing. */
function clockMs(text: string): number {
  return typeof text === 'string' && text.length === 5 ? clockAt(text, 0) : NaN
}

function clockAt(text: string, at: number): number {
  if (text[at + 2] !== ':') return NaN
  const hour = digitsAt(text, at, 2)
  const minute = digitsAt(text, at + 3, 2)
  if (!(minute <= 59 && (hour <= 23 || (hour === 24 && minute === 0)))) return NaN
  return (hour * 60 + minute) * MINUTE
}

/** The number written by `length` ASCII digits at `at`, or NaN. Parsed by hand: this runs on every request. */
function digitsAt(text: string, at: number, length: number): number {
  let n = 0
  for (let i = at; i < at + length; i++) {
    const digit = text.charCodeAt(i) - 48
    if (!(digit >= 0 && digit <= 9)) return NaN
    n = n * 10 + digit
  }
  return n
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
}

/**
 * What a zone's offsets are known to be over [from, to]: `offset` throughout, and `peak` the highest
 * reading shown before `from` that the clock may not have caught up with yet (after a fall-back), or
 * -Infinity.
 */
interface Span {
  from: number
  to: number
  offset: number
  peak: number
}

interface Zone {
  format: Intl.DateTimeFormat
  span: Span | undefined
}

const zones = new Map<string, Zone>()

function zoneFor(timeZone: string): Zone | undefined {
  let zone = zones.get(timeZone)
  if (zone !== undefined) return zone
  if (typeof timeZone !== 'string' || !IANA_NAME.test(timeZone)) return undefined
  let format: Intl.DateTimeFormat
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
  } catch {
    return undefined
  }
  if (zones.size >= MAX_ZONES) zones.clear()
  zone = { format, span: undefined }
  zones.set(timeZone, zone)
  return zone
}

/**
 * The highest local reading (as ms of a UTC clock) the zone's clock has shown up to `now`. Offsets are
 * learnt a day at a time and kept per zone, so most calls do arithmetic only and a zone costs a few
 * formatter calls a day.
 */
function clockReading(zone: Zone, now: number): number {
  let span = zone.span
  if (span === undefined || now < span.from || now > span.to) span = zone.span = spanAround(zone.format, now)
  return Math.max(now + span.offset, span.peak)
}

// Assumes no zone changes its offset twice within two days and no fall-back lasts a day. In the tz data of
// 2025 the closest two changes of any zone from 2000 to 2040 are a week apart (Gaza's around Ramadan, Brazil's
// in 2000) and the longest fall-back is three hours (Antarctica/Casey).
function spanAround(format: Intl.DateTimeFormat, now: number): Span {
  const offset = offsetAt(format, now)
  const back = now - DAY
  const offsetBack = offsetAt(format, back)
  let from = now
  let peak = -Infinity
  if (offsetBack !== offset) {
    from = changeBetween(format, back, now, offset)
    if (offsetBack > offset) peak = from - 1 + offsetBack
  }
  const ahead = now + DAY
  const offsetAhead = offsetAt(format, ahead)
  const to = offsetAhead === offset ? ahead : changeBetween(format, now, ahead, offsetAhead) - 1
  return { from, to, offset, peak }
}

/** The first whole second in (a, b] whose offset is `offset`, the offset at b; offsets change on whole seconds. */
function changeBetween(format: Intl.DateTimeFormat, a: number, b: number, offset: number): number {
  let lo = Math.floor(a / 1000)
  let hi = Math.floor(b / 1000)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (offsetAt(format, mid * 1000) === offset) hi = mid
    else lo = mid
  }
  return hi * 1000
}

function offsetAt(format: Intl.DateTimeFormat, t: number): number {
  const second = Math.floor(t / 1000) * 1000
  let year = 0
  let month = 0
  let day = 0
  let hour = 0
  let minute = 0
  let sec = 0
  for (const part of format.formatToParts(second)) {
    if (part.type === 'year') year = Number(part.value)
    else if (part.type === 'month') month = Number(part.value)
    else if (part.type === 'day') day = Number(part.value)
    else if (part.type === 'hour') hour = Number(part.value)
    else if (part.type === 'minute') minute = Number(part.value)
    else if (part.type === 'second') sec = Number(part.value)
  }
  const reading = new Date(0)
  reading.setUTCFullYear(year, month - 1, day)
  reading.setUTCHours(hour, minute, sec)
  return reading.getTime() - second
}

const localDateTime = z.string().refine((text) => !Number.isNaN(parseLocal(text)), {
  message: 'must be a local date YYYY-MM-DD or date-time YYYY-MM-DDTHH:MM',
})

const weeklyWindow = z
  .strictObject({
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1, 'pick at least one day')
      .max(7)
      .refine((days) => new Set(days).size === days.length, { message: 'name each day once' }),
    from: z.string().refine((time) => clockMs(time) < DAY, { message: 'must be a time HH:MM from 00:00 to 23:59' }),
    to: z.string().refine((time) => !Number.isNaN(clockMs(time)), { message: 'must be a time HH:MM from 00:00 to 24:00' }),
  })
  .refine((w) => w.from !== w.to, {
    message: 'from and to are the same time; a whole day is 00:00–24:00',
    path: ['to'],
  })

/** A schedule at the Worker's door. A `to` earlier than `from` is an overnight window, not an error. */
export const scheduleSchema = z
  .strictObject({
    start: localDateTime.optional(),
    end: localDateTime.optional(),
    weekly: z.array(weeklyWindow).min(1).max(MAX_WINDOWS).optional(),
  })
  .refine((s) => s.start === undefined || s.end === undefined || parseLocal(s.end) > parseLocal(s.start), {
    message: 'end must come after start',
    path: ['end'],
  }) satisfies z.ZodType<Schedule>

/** An IANA time zone name such as Europe/Madrid; fixed offsets and "Local" are refused. */
export const timeZoneSchema = z
  .string()
  .max(64)
  .refine((name) => zoneFor(name) !== undefined, { message: 'must be an IANA time zone such as Europe/Madrid' })
