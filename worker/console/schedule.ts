/**
 * Schedules as the console shows and edits them: in plain words for the lists ("Weekdays 09:00–17:00 from
 * 1 Dec 2026"), and as the flat fields of the content form. The workflow builder's script shares the days
 * and the inputs' conventions. The rules themselves (what a schedule may say, what it means) live in
 * worker/workflows/schedule.ts.
 */
import { type ContentPayload } from '../../shared/content'
import { type Schedule, type Weekday, type WeeklyWindow } from '../workflows/schedule'

/** A schedule as stored with a workflow or, with looser types, with content. */
type StoredSchedule = Schedule | NonNullable<ContentPayload['schedule']>
type StoredWindow = NonNullable<StoredSchedule['weekly']>[number]

export const DAYS: ReadonlyArray<readonly [Weekday, string]> = [
  ['mon', 'Mon'], ['tue', 'Tue'], ['wed', 'Wed'], ['thu', 'Thu'], ['fri', 'Fri'], ['sat', 'Sat'], ['sun', 'Sun'],
]
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

// A time input cannot hold 24:00: a window "to 00:00" means until midnight, and is kept as 24:00 (for a
// window that starts later in the day the two mean the same; from 00:00 it is the whole day).

/** A window's `to` as a time input holds it. */
export const toInput = (to: string) => (to === '24:00' ? '00:00' : to)

/** A window's `to` from a time input. */
export const toStored = (to: string) => (to === '00:00' ? '24:00' : to)

/** A schedule's `start` or `end` as a datetime-local input holds it: a date alone is its midnight. */
export const dateTimeInput = (local: string | undefined) => (!local ? '' : local.length === 10 ? `${local}T00:00` : local)

/**
 * A schedule in words, days in week order and dates as the site's clock reads them.
 *
 * @example
 * describeSchedule({ start: '2026-12-01', weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }] })
 * // 'Weekdays 09:00–17:00 from 1 Dec 2026'
 */
export function describeSchedule(schedule: StoredSchedule): string {
  const parts = (schedule.weekly ?? []).map((w) => `${daysText(w.days)} ${w.from}–${w.to}`)
  const hours = parts.join('; ')
  const dates = [schedule.start && `from ${dateText(schedule.start, false)}`, schedule.end && `until ${dateText(schedule.end, true)}`].filter(Boolean).join(' ')
  const words = [hours, dates].filter(Boolean).join(' ')
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : 'Always'
}

function daysText(days: readonly string[]): string {
  const picked = DAYS.filter(([d]) => days.includes(d))
  const key = picked.map(([d]) => d).join(',')
  if (key === 'mon,tue,wed,thu,fri') return 'Weekdays'
  if (key === 'sat,sun') return 'Weekends'
  if (picked.length === 7) return 'Every day'
  // Runs of three days or more read as a range: Mon–Thu, Sat.
  const runs: string[][] = []
  let previous = -2
  for (const [d, label] of picked) {
    const at = DAYS.findIndex(([x]) => x === d)
    if (at === previous + 1) runs[runs.length - 1].push(label)
    else runs.push([label])
    previous = at
  }
  return runs.map((run) => (run.length >= 3 ? `${run[0]}–${run[run.length - 1]}` : run.join(', '))).join(', ')
}

/** `2026-12-01` → `1 Dec 2026`; the time is shown unless it is a start at midnight. */
function dateText(local: string, withMidnight: boolean): string {
  const [date, time = '00:00'] = local.split('T')
  const [year, month, day] = date.split('-').map(Number)
  const text = `${day} ${MONTHS[month - 1] ?? '?'} ${year}`
  return time === '00:00' && !withMidnight ? text : `${text} ${time}`
}

/** The content form's fields for a schedule: start, end, and each weekly window's days and hours. */
export function scheduleFields(schedule: StoredSchedule | undefined): Record<string, string> {
  const out: Record<string, string> = { scheduleStart: dateTimeInput(schedule?.start), scheduleEnd: dateTimeInput(schedule?.end) }
  ;(schedule?.weekly ?? []).forEach((w, i) => Object.assign(out, windowFields(i, w)))
  return out
}

function windowFields(i: number, w: StoredWindow): Record<string, string> {
  const out: Record<string, string> = { [`weekly-${i}-from`]: w.from, [`weekly-${i}-to`]: toInput(w.to) }
  for (const d of w.days) out[`weekly-${i}-${d}`] = 'on'
  return out
}

const WINDOW_FIELD = /^weekly-(\d{1,2})-(?:from|to|mon|tue|wed|thu|fri|sat|sun)$/

/**
 * The schedule a content form sends, and its fields renumbered as the form shows them again: windows in
 * the order of their numbers (a script may have removed some), a window left wholly blank dropped. No
 * start, end or window is no schedule.
 */
export function scheduleOf(form: Record<string, string>): { schedule?: Schedule; fields: Record<string, string> } {
  const numbers = new Set<number>()
  for (const key of Object.keys(form)) {
    const m = WINDOW_FIELD.exec(key)
    if (m) numbers.add(Number(m[1]))
  }
  const weekly: WeeklyWindow[] = []
  for (const n of [...numbers].sort((a, b) => a - b)) {
    const days = DAYS.map(([d]) => d).filter((d) => form[`weekly-${n}-${d}`] === 'on')
    const from = (form[`weekly-${n}-from`] ?? '').trim()
    const to = (form[`weekly-${n}-to`] ?? '').trim()
    if (days.length > 0 || from || to) weekly.push({ days, from, to: toStored(to) })
  }
  const schedule: Schedule = {}
  const start = (form.scheduleStart ?? '').trim()
  const end = (form.scheduleEnd ?? '').trim()
  if (start) schedule.start = start
  if (end) schedule.end = end
  if (weekly.length > 0) schedule.weekly = weekly
  const fields: Record<string, string> = { scheduleStart: start, scheduleEnd: end }
  weekly.forEach((w, i) => Object.assign(fields, windowFields(i, w)))
  return { schedule: Object.keys(schedule).length > 0 ? schedule : undefined, fields }
}

/** How many weekly windows the content form's fields hold (numbered from 0, as `scheduleOf` leaves them). */
export function windowCount(fields: Record<string, string>): number {
  let n = 0
  while (Object.keys(fields).some((k) => k.startsWith(`weekly-${n}-`))) n++
  return n
}

/**
 * Where the content form shows a problem with its schedule: `schedule.end` beside the end, anything
 * about the second weekly window beside it (`weekly-1`, then what within it), the rest beside the schedule.
 */
export function scheduleInputPath(path: readonly PropertyKey[]): PropertyKey[] {
  if (path[0] !== 'schedule') return [...path]
  const [, key, index, ...rest] = path
  if (key === 'start' || key === 'end') return [key === 'start' ? 'scheduleStart' : 'scheduleEnd']
  if (key === 'weekly' && typeof index === 'number') return [`weekly-${index}`, ...rest]
  return ['schedule', ...path.slice(1)]
}
