/**
 * Schedules in the site's time zone: start and end to the millisecond, weekly windows on the local weekday
 * (overnight ones included), the 2026 DST changes of New York, Madrid and Auckland and the half-hour offset
 * of Kolkata, a sweep against a brute-force reading of the clock, the cost per call, and the schema's
 * refusals.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { inSchedule, scheduleSchema, timeZoneSchema, type Schedule, type Weekday } from './schedule'

const at = (iso: string) => Date.parse(`${iso}Z`)
const everyDay: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
const window = (from: string, to: string, days: Weekday[] = everyDay): Schedule => ({ weekly: [{ days, from, to }] })

/** Asserts whether the schedule is open at each UTC instant named. */
function expectOpen(schedule: Schedule, timeZone: string, expected: Record<string, boolean>) {
  const actual = Object.fromEntries(Object.keys(expected).map((iso) => [iso, inSchedule(schedule, at(iso), timeZone)]))
  expect(actual).toEqual(expected)
}

describe('inSchedule', () => {
  it('treats no schedule, and an empty one, as always', () => {
    expect(inSchedule(undefined, at('2026-06-01T12:00:00'), 'Europe/Madrid')).toBe(true)
    expect(inSchedule({}, at('2026-06-01T12:00:00'), 'Europe/Madrid')).toBe(true)
  })

  it('opens at start inclusive and closes at end exclusive, to the millisecond', () => {
    // 09:00–18:00 in Madrid in summer is 07:00–16:00 UTC.
    const schedule = { start: '2026-06-01T09:00', end: '2026-06-01T18:00' }
    expectOpen(schedule, 'Europe/Madrid', {
      '2026-06-01T06:59:59.999': false,
      '2026-06-01T07:00:00.000': true,
      '2026-06-01T15:59:59.999': true,
      '2026-06-01T16:00:00.000': false,
    })
  })

  it('reads a date without a time as local midnight', () => {
    // Midnight in Kolkata (+05:30) is 18:30 UTC the day before.
    const schedule = { start: '2026-06-01', end: '2026-06-02' }
    expectOpen(schedule, 'Asia/Kolkata', {
      '2026-05-31T18:29:59.999': false,
      '2026-05-31T18:30:00.000': true,
      '2026-06-01T18:29:59.999': true,
      '2026-06-01T18:30:00.000': false,
    })
  })

  it('matches weekly windows on the local weekday when UTC is on another day', () => {
    // Friday 20:00–24:00 in New York (EDT) is Saturday 00:00–04:00 UTC.
    expectOpen(window('20:00', '24:00', ['fri']), 'America/New_York', {
      '2026-06-05T23:59:59.999': false,
      '2026-06-06T00:00:00.000': true,
      '2026-06-06T03:59:59.999': true,
      '2026-06-06T04:00:00.000': false,
    })
    // Monday 00:00–06:00 in Auckland (NZST, +12) is Sunday 12:00–18:00 UTC.
    expectOpen(window('00:00', '06:00', ['mon']), 'Pacific/Auckland', {
      '2026-06-07T11:59:59.999': false,
      '2026-06-07T12:00:00.000': true,
      '2026-06-07T17:59:59.999': true,
      '2026-06-07T18:00:00.000': false,
    })
  })

  it('keeps the half-hour of Kolkata in weekday windows', () => {
    // Monday 00:00–00:30 in Kolkata is Sunday 18:30–19:00 UTC.
    expectOpen(window('00:00', '00:30', ['mon']), 'Asia/Kolkata', {
      '2026-06-07T18:29:59.999': false,
      '2026-06-07T18:30:00.000': true,
      '2026-06-07T18:59:59.999': true,
      '2026-06-07T19:00:00.000': false,
    })
  })

  it('runs an overnight window from the day it opens into the next morning', () => {
    const late = window('22:00', '02:00', ['fri'])
    // 2026-06-05 is a Friday; UTC, so the wall clock is the instant.
    expectOpen(late, 'UTC', {
      '2026-06-05T21:59:59.999': false,
      '2026-06-05T22:00:00.000': true,
      '2026-06-06T01:59:59.999': true,
      '2026-06-06T02:00:00.000': false,
    })
    // Not on the morning of the day it opens, nor in the evening of the day after.
    expectOpen(late, 'UTC', { '2026-06-05T01:00:00.000': false, '2026-06-06T23:00:00.000': false })
  })

  it('wraps an overnight window from Sunday into Monday', () => {
    expectOpen(window('23:00', '01:00', ['sun']), 'UTC', {
      '2026-06-07T23:30:00': true,
      '2026-06-08T00:59:59.999': true,
      '2026-06-08T01:00:00': false,
      '2026-06-01T00:30:00': true,
    })
  })

  describe('New York, 2026 (clocks go forward at 02:00 on 8 March and back at 02:00 on 1 November)', () => {
    const zone = 'America/New_York'

    it('never opens a window that falls in the hour the clock skips', () => {
      const skipped = window('02:00', '03:00', ['sun'])
      for (let t = at('2026-03-08T04:00:00'); t < at('2026-03-09T04:00:00'); t += 60_000) expect(inSchedule(skipped, t, zone)).toBe(false)
      // The next Sunday it runs a whole hour, 02:00–03:00 EDT.
      expectOpen(skipped, zone, {
        '2026-03-15T05:59:59.999': false,
        '2026-03-15T06:00:00': true,
        '2026-03-15T06:59:59.999': true,
        '2026-03-15T07:00:00': false,
      })
    })

    it('starts a start time the clock skips at the first instant after the gap', () => {
      // 02:30 does not exist; 01:59:59.999 EST is followed by 03:00 EDT (07:00 UTC).
      expectOpen({ start: '2026-03-08T02:30' }, zone, { '2026-03-08T06:59:59.999': false, '2026-03-08T07:00:00.000': true })
    })

    it('closes a window whose end the clock skips when the gap comes', () => {
      expectOpen(window('01:00', '02:30', ['sun']), zone, {
        '2026-03-08T06:00:00': true,
        '2026-03-08T06:59:59.999': true,
        '2026-03-08T07:00:00': false,
      })
    })

    it('keeps a window over the repeated hour open through both passes', () => {
      // 01:00 EDT is 05:00 UTC; 01:00–01:59 happens again as EST from 06:00 UTC; 02:00 EST is 07:00 UTC.
      expectOpen(window('01:00', '02:00', ['sun']), zone, {
        '2026-11-01T04:59:59.999': false,
        '2026-11-01T05:00:00': true,
        '2026-11-01T05:59:59.999': true,
        '2026-11-01T06:00:00': true,
        '2026-11-01T06:59:59.999': true,
        '2026-11-01T07:00:00': false,
      })
    })

    it('starts at the first occurrence of a repeated time and stays started through the second', () => {
      // 01:30 EDT is 05:30 UTC; the second pass reads 01:00–01:29 EST at 06:00–06:29 UTC.
      expectOpen({ start: '2026-11-01T01:30' }, zone, {
        '2026-11-01T05:29:59.999': false,
        '2026-11-01T05:30:00': true,
        '2026-11-01T06:00:00': true,
        '2026-11-01T06:29:59.999': true,
      })
    })

    it('does not reopen a window that ended at the first occurrence of a repeated time', () => {
      expectOpen(window('00:00', '01:30', ['sun']), zone, {
        '2026-11-01T05:29:59.999': true,
        '2026-11-01T05:30:00': false,
        '2026-11-01T06:15:00': false,
        '2026-11-01T06:45:00': false,
      })
    })

    it('does not close a window that opened at the first occurrence of a repeated time', () => {
      expectOpen(window('01:30', '03:00', ['sun']), zone, {
        '2026-11-01T05:30:00': true,
        '2026-11-01T06:00:00': true,
        '2026-11-01T06:15:00': true,
        '2026-11-01T07:59:59.999': true,
        '2026-11-01T08:00:00': false,
      })
    })

    it('answers for the repeated hour after being asked about the next day', () => {
      // 06:25 UTC reads 01:25 EST, but 01:30 already came as EDT: the window is over.
      expectOpen(window('01:00', '01:30', ['sun']), zone, { '2026-11-02T06:20:00': false, '2026-11-01T06:25:00': false })
    })
  })

  describe('Madrid, 2026 (forward at 02:00 on 29 March, back at 03:00 on 25 October)', () => {
    const zone = 'Europe/Madrid'

    it('never opens a window in the skipped hour, and starts a skipped time after the gap', () => {
      expectOpen(window('02:00', '03:00', ['sun']), zone, {
        '2026-03-29T00:59:59.999': false,
        '2026-03-29T01:00:00': false,
        '2026-03-29T01:30:00': false,
      })
      expectOpen({ start: '2026-03-29T02:15' }, zone, { '2026-03-29T00:59:59.999': false, '2026-03-29T01:00:00': true })
    })

    it('holds a window over the repeated hour for two hours, and ends a repeated end at its first occurrence', () => {
      // 02:00 CEST is 00:00 UTC; 03:00 CET is 02:00 UTC.
      expectOpen(window('02:00', '03:00', ['sun']), zone, {
        '2026-10-24T23:59:59.999': false,
        '2026-10-25T00:00:00': true,
        '2026-10-25T01:30:00': true,
        '2026-10-25T01:59:59.999': true,
        '2026-10-25T02:00:00': false,
      })
      // 02:30 CEST is 00:30 UTC; 02:30 CET (01:30 UTC) is not a second end.
      expectOpen({ end: '2026-10-25T02:30' }, zone, { '2026-10-25T00:29:59.999': true, '2026-10-25T00:30:00': false, '2026-10-25T01:15:00': false })
    })
  })

  describe('Auckland, 2026 (back at 03:00 on 5 April, forward at 02:00 on 27 September)', () => {
    const zone = 'Pacific/Auckland'

    it('holds a window over the repeated hour of the April fall-back', () => {
      // 02:00 NZDT is 13:00 UTC on the 4th; 03:00 NZST is 15:00 UTC.
      expectOpen(window('02:00', '03:00', ['sun']), zone, {
        '2026-04-04T12:59:59.999': false,
        '2026-04-04T13:00:00': true,
        '2026-04-04T14:30:00': true,
        '2026-04-04T14:59:59.999': true,
        '2026-04-04T15:00:00': false,
      })
    })

    it('starts a time skipped in September at the first instant after the gap', () => {
      // 01:59:59.999 NZST is 13:59:59.999 UTC on the 26th, followed by 03:00 NZDT.
      expectOpen({ start: '2026-09-27T02:30' }, zone, { '2026-09-26T13:59:59.999': false, '2026-09-26T14:00:00': true })
    })
  })

  it('refuses, without throwing, malformed times and unknown or offset time zones', () => {
    const now = at('2026-06-01T12:00:00')
    expect(inSchedule({ start: '2026-02-30' }, now, 'UTC')).toBe(false)
    expect(inSchedule({ end: 'soon' }, now, 'UTC')).toBe(false)
    expect(inSchedule(window('9:00', '17:00'), now, 'UTC')).toBe(false)
    for (const zone of ['Mars/Olympus', '+02:00', 'Local', '']) expect(inSchedule({}, now, zone)).toBe(false)
    expect(inSchedule({}, NaN, 'UTC')).toBe(false)
  })
})

describe('inSchedule against a brute-force reading of the clock', () => {
  const MINUTE = 60_000
  const HOUR = 3_600_000
  const DAY = 86_400_000
  const SUNDAY_FIRST: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

  /** The local reading at a whole-second instant, as ms of a UTC clock, from a formatter of the test's own. */
  function readerFor(timeZone: string) {
    const format = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    return (t: number) => {
      const p = Object.fromEntries(format.formatToParts(t).map((part) => [part.type, Number(part.value)]))
      return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
    }
  }

  // A local time L takes effect at the first instant whose reading is L or later; on a minute grid with
  // times and changes on whole minutes, that is whether the highest reading so far has reached L.
  function reference(schedule: Schedule, highest: number) {
    const started = (local: string) => highest >= Date.parse(`${local.length === 10 ? `${local}T00:00` : local}Z`)
    if (schedule.start !== undefined && !started(schedule.start)) return false
    if (schedule.end !== undefined && started(schedule.end)) return false
    if (schedule.weekly === undefined) return true
    const today = Math.floor(highest / DAY)
    return schedule.weekly.some(({ days, from, to }) =>
      [today - 1, today].some((day) => {
        if (!days.includes(SUNDAY_FIRST[new Date(day * DAY).getUTCDay()])) return false
        const date = new Date(day * DAY).toISOString().slice(0, 10)
        const closes = to === '24:00' || to < from ? new Date((day + 1) * DAY).toISOString().slice(0, 10) + (to === '24:00' ? 'T00:00' : `T${to}`) : `${date}T${to}`
        return started(`${date}T${from}`) && !started(closes)
      }),
    )
  }

  const changes: Array<[string, string]> = [
    ['America/New_York', '2026-03-08'],
    ['America/New_York', '2026-11-01'],
    ['Europe/Madrid', '2026-03-29'],
    ['Europe/Madrid', '2026-10-25'],
    ['Pacific/Auckland', '2026-04-05'],
    ['Pacific/Auckland', '2026-09-27'],
    ['Australia/Lord_Howe', '2026-04-05'],
    ['Asia/Kolkata', '2026-06-07'],
  ]

  it.each(changes)('%s around %s, every minute, in shuffled order', (timeZone, date) => {
    const times = ['00:30', '01:00', '01:30', '02:00', '02:30', '03:00', '03:30']
    const schedules: Schedule[] = [
      ...times.map((t) => ({ start: `${date}T${t}` })),
      ...times.map((t) => ({ end: `${date}T${t}` })),
      { start: date, end: `${date}T02:45` },
      window('01:00', '02:00'),
      window('02:00', '03:00'),
      window('00:00', '01:30'),
      window('01:30', '03:00'),
      window('02:30', '02:45'),
      window('23:00', '02:30', ['sat']),
      window('03:00', '24:00', ['sun', 'mon']),
    ]
    const read = readerFor(timeZone)
    const middle = Date.parse(`${date}T02:00Z`)
    const first = middle - 3 * DAY
    const highest: number[] = []
    let peak = -Infinity
    for (let t = first; t <= middle + 2 * DAY; t += MINUTE) highest.push((peak = Math.max(peak, read(t))))
    // Checked from 30 hours before 02:00 UTC on the date to 30 hours after, so the change falls inside.
    let indices = Array.from({ length: 60 * 60 }, (_, i) => (3 * DAY - 30 * HOUR) / MINUTE + i)
    // A fixed shuffle, so the cache of offsets sees instants out of order.
    indices = indices.map((index, i) => [(i * 7919) % indices.length, index]).sort((a, b) => a[0] - b[0]).map(([, index]) => index)
    const wrong: Array<{ now: string; schedule: Schedule }> = []
    for (const i of indices) {
      const now = first + i * MINUTE
      for (const schedule of schedules) {
        if (inSchedule(schedule, now, timeZone) !== reference(schedule, highest[i])) wrong.push({ now: new Date(now).toISOString(), schedule })
      }
    }
    expect(wrong.slice(0, 5)).toEqual([])
  })
})

describe('cost', () => {
  afterEach(() => vi.restoreAllMocks())

  it('formats no date once a zone is warm: a day of requests is arithmetic', () => {
    const schedule = window('09:00', '17:00', ['mon', 'tue', 'wed', 'thu', 'fri'])
    const start = at('2026-06-01T00:00:00')
    inSchedule(schedule, start, 'Asia/Tokyo')
    const formats = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts')
    for (let t = start; t < start + 86_400_000; t += 86_400) inSchedule(schedule, t, 'Asia/Tokyo')
    expect(formats).not.toHaveBeenCalled()
  })
})

describe('scheduleSchema', () => {
  it.each<[string, unknown]>([
    ['a start and an end', { start: '2026-03-01', end: '2026-03-31T18:00' }],
    ['an overnight window', { weekly: [{ days: ['fri', 'sat'], from: '22:00', to: '02:00' }] }],
    ['a window to 24:00', { weekly: [{ days: ['sun'], from: '00:00', to: '24:00' }] }],
    ['20 windows', { weekly: Array.from({ length: 20 }, () => ({ days: ['mon'], from: '09:00', to: '10:00' })) }],
    ['nothing', {}],
  ])('accepts %s', (_name, value) => {
    expect(scheduleSchema.safeParse(value).success).toBe(true)
  })

  it.each<[string, unknown]>([
    ['an end equal to the start', { start: '2026-03-01T00:00', end: '2026-03-01' }],
    ['an end before the start', { start: '2026-03-02', end: '2026-03-01T23:59' }],
    ['a date that does not exist', { start: '2026-02-29' }],
    ['a time of 24:00 in a date-time', { start: '2026-03-01T24:00' }],
    ['seconds', { start: '2026-03-01T10:00:00' }],
    ['an offset', { start: '2026-03-01T10:00+02:00' }],
    ['a window from and to the same time', { weekly: [{ days: ['mon'], from: '09:00', to: '09:00' }] }],
    ['a window from 24:00', { weekly: [{ days: ['mon'], from: '24:00', to: '02:00' }] }],
    ['an hour of 25', { weekly: [{ days: ['mon'], from: '09:00', to: '25:00' }] }],
    ['a time without a leading zero', { weekly: [{ days: ['mon'], from: '9:00', to: '17:00' }] }],
    ['an unknown weekday', { weekly: [{ days: ['monday'], from: '09:00', to: '17:00' }] }],
    ['a day named twice', { weekly: [{ days: ['mon', 'mon'], from: '09:00', to: '17:00' }] }],
    ['no days', { weekly: [{ days: [], from: '09:00', to: '17:00' }] }],
    ['no windows', { weekly: [] }],
    ['21 windows', { weekly: Array.from({ length: 21 }, () => ({ days: ['mon'], from: '09:00', to: '10:00' })) }],
    ['an unknown key', { start: '2026-03-01', timeZone: 'UTC' }],
    ['an unknown key in a window', { weekly: [{ days: ['mon'], from: '09:00', to: '17:00', zone: 'UTC' }] }],
  ])('refuses %s', (_name, value) => {
    expect(scheduleSchema.safeParse(value).success).toBe(false)
  })
})

describe('timeZoneSchema', () => {
  it.each(['UTC', 'Europe/Madrid', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata', 'America/Port-au-Prince', 'Etc/GMT+2'])('accepts %s', (name) => {
    expect(timeZoneSchema.safeParse(name).success).toBe(true)
  })

  it.each(['+02:00', '-05:00', 'UTC+2', 'GMT+02:00', 'Local', 'Mars/Olympus', 'Europe/', '', 42])('refuses %j', (name) => {
    expect(timeZoneSchema.safeParse(name).success).toBe(false)
  })
})
