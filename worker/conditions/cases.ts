/**
 * The meaning of conditions, pinned case by case: [name, contact, condition, expected]. The evaluator's
 * unit test and the SQL compiler's worker test both run every case, so each also checks that the two agree.
 */
import { type Activity } from './evaluate'
import { type CustomFieldDefinition } from './fields'
import { type Condition, type EventPredicate } from './types'

/** "Now" for every case: 2026-06-15 12:00 UTC. */
export const CASES_NOW = Date.UTC(2026, 5, 15, 12)
const DAY = 86_400_000

export const CASE_FIELDS: CustomFieldDefinition[] = [
  { key: 'genre', type: 'string' },
  { key: 'points', type: 'number' },
  { key: 'vip', type: 'boolean' },
  { key: 'renewal', type: 'date' },
  { key: 'constructor', type: 'string' },
]

export interface CaseContact {
  email?: string
  fields?: Record<string, string | number | boolean>
  createdAt?: number
  events?: Array<Omit<Activity, 'id'>>
  segments?: string[]
}

export type ConditionCase = [name: string, contact: CaseContact, condition: Condition, expected: boolean]

const millennials: Condition = { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }
const visit = (url: string, daysAgo: number): Omit<Activity, 'id'> => ({ type: 'page_visit', url, at: CASES_NOW - daysAgo * DAY })
const purchase = (amount: number, daysAgo: number): Omit<Activity, 'id'> => ({ type: 'purchase', amountMilli: amount * 1000, at: CASES_NOW - daysAgo * DAY })
const custom = (props: Record<string, string | number | boolean>): Omit<Activity, 'id'> => ({ type: 'custom', name: 'x', props, at: CASES_NOW - DAY })
const withProp = (where: EventPredicate): Condition => ({ all: [{ activity: 'custom', name: 'x', where }] })
const rockFan: Condition = { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' }] }

export const CONDITION_CASES: ConditionCase[] = [
  ['born in 1990 is a millennial', { fields: { birthDate: '1990-04-02' } }, millennials, true],
  ['born in 1970 is not a millennial', { fields: { birthDate: '1970-04-02' } }, millennials, false],
  ['between includes its first day', { fields: { birthDate: '1981-01-01' } }, millennials, true],
  ['between includes its last day', { fields: { birthDate: '1996-12-31' } }, millennials, true],
  ['a day after the range is out', { fields: { birthDate: '1997-01-01' } }, millennials, false],
  ['no birth date is not a millennial', {}, millennials, false],
  ['a birth date that does not exist matches nothing', { fields: { birthDate: '1990-02-30' } }, millennials, false],
  ['notExists matches a missing field', {}, { all: [{ field: 'birthDate', op: 'notExists' }] }, true],
  ['exists matches a present field', { fields: { birthDate: '1990-04-02' } }, { all: [{ field: 'birthDate', op: 'exists' }] }, true],
  ['ne does not match a missing field', {}, { all: [{ field: 'country', op: 'ne', value: 'ES' }] }, false],
  ['notIn does not match a missing field', {}, { all: [{ field: 'country', op: 'notIn', value: ['ES'] }] }, false],
  ['eq folds ASCII case', { fields: { country: 'es' } }, { all: [{ field: 'country', op: 'eq', value: 'ES' }] }, true],
  ['eq keeps other letters as they are', { fields: { city: 'ÉCIJA' } }, { all: [{ field: 'city', op: 'eq', value: 'écija' }] }, false],
  ['in matches any listed value', { fields: { country: 'FR' } }, { all: [{ field: 'country', op: 'in', value: ['ES', 'fr'] }] }, true],
  ['notIn refuses a listed value', { fields: { country: 'FR' } }, { all: [{ field: 'country', op: 'notIn', value: ['ES', 'fr'] }] }, false],
  ['contains is case-insensitive', { fields: { genre: 'Hard Rock' } }, { all: [{ field: 'genre', op: 'contains', value: 'ROCK' }] }, true],
  ['contains treats % literally', { fields: { genre: 'rock' } }, { all: [{ field: 'genre', op: 'contains', value: '%' }] }, false],
  ['contains treats _ literally', { fields: { genre: 'rock' } }, { all: [{ field: 'genre', op: 'contains', value: 'r_ck' }] }, false],
  ['startsWith', { fields: { phone: '+34 600' } }, { all: [{ field: 'phone', op: 'startsWith', value: '+34' }] }, true],
  ['endsWith on email', { email: 'ana@gmail.com' }, { all: [{ field: 'email', op: 'endsWith', value: '@GMAIL.com' }] }, true],
  ['notContains matches when absent', { fields: { genre: 'jazz' } }, { all: [{ field: 'genre', op: 'notContains', value: 'rock' }] }, true],
  ['a number compares as a number', { fields: { points: 10 } }, { all: [{ field: 'points', op: 'gt', value: 9 }] }, true],
  ['gte includes the bound', { fields: { points: 10 } }, { all: [{ field: 'points', op: 'gte', value: 10 }] }, true],
  ['a text operand on a number field matches nothing', { fields: { points: 10 } }, { all: [{ field: 'points', op: 'eq', value: '10' }] }, false],
  ['a value of the wrong type counts as missing', { fields: { points: 'ten' } }, { all: [{ field: 'points', op: 'notExists' }] }, true],
  ['boolean eq', { fields: { vip: true } }, { all: [{ field: 'vip', op: 'eq', value: true }] }, true],
  ['boolean ne', { fields: { vip: true } }, { all: [{ field: 'vip', op: 'ne', value: true }] }, false],
  ['a custom field named constructor is missing until set', {}, { all: [{ field: 'constructor', op: 'notExists' }] }, true],
  ['exists does not match an unset custom field named constructor', {}, { all: [{ field: 'constructor', op: 'exists' }] }, false],
  ['a custom field named constructor compares its own value', { fields: { constructor: 'Ana' } }, { all: [{ field: 'constructor', op: 'eq', value: 'ana' }] }, true],
  ['a field named toString that the site does not declare is unknown', {}, { all: [{ field: 'toString', op: 'exists' }] }, false],
  ['an unknown field is missing', {}, { all: [{ field: 'shoeSize', op: 'notExists' }] }, true],
  ['an unknown field matches nothing else', {}, { all: [{ field: 'shoeSize', op: 'ne', value: 'x' }] }, false],
  ['an operator named like a prototype member matches nothing', { fields: { country: 'ES' } }, { all: [{ field: 'country', op: 'toString' as 'eq', value: 'S' }] }, false],
  ['an unknown operator matches nothing', { fields: { country: 'ES' } }, { all: [{ field: 'country', op: 'like' as 'eq', value: 'ES' }] }, false],
  ['between with one bound matches nothing', { fields: { points: 5 } }, { all: [{ field: 'points', op: 'between', value: [1] }] }, false],
  ['a custom date before', { fields: { renewal: '2026-01-01' } }, { all: [{ field: 'renewal', op: 'before', value: '2026-06-01' }] }, true],
  ['withinLast on a timestamp', { createdAt: CASES_NOW - 2 * DAY }, { all: [{ field: 'createdAt', op: 'withinLast', value: '7d' }] }, true],
  ['olderThan on a timestamp', { createdAt: CASES_NOW - 2 * DAY }, { all: [{ field: 'createdAt', op: 'olderThan', value: '7d' }] }, false],
  ['a bad duration matches nothing', { createdAt: CASES_NOW - 2 * DAY }, { all: [{ field: 'createdAt', op: 'withinLast', value: '30x' }] }, false],
  ['three rock visits in 30 days make a rock fan', { events: [visit('/rock/a', 1), visit('/rock/b', 5), visit('/ROCK/c', 29)] }, rockFan, true],
  ['a visit 31 days ago is outside the window', { events: [visit('/rock/a', 1), visit('/rock/b', 5), visit('/rock/c', 31)] }, rockFan, false],
  ['other pages do not count', { events: [visit('/rock/a', 1), visit('/jazz/b', 5), visit('/rock/c', 2)] }, rockFan, false],
  ['a visit exactly at the window edge counts', { events: [visit('/rock/a', 1), visit('/rock/b', 5), visit('/rock/c', 30)] }, rockFan, true],
  ['a URL is plain text, prototype names included', { events: [visit('/shop/Constructor', 1)] }, { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: 'constructor' } }] }, true],
  ['url contains "toString" does not match other pages', { events: [visit('/shop', 1)] }, { all: [{ activity: 'page_visit', where: { field: 'url', op: 'contains', value: 'toString' } }] }, false],
  ['no measure means at least once', { events: [visit('/', 100)] }, { all: [{ activity: 'page_visit' }] }, true],
  ['count eq 0 matches a contact who never did it', {}, { all: [{ activity: 'purchase', count: { op: 'eq', value: 0 } }] }, true],
  ['sum of purchases', { events: [purchase(60, 1), purchase(45.5, 3)] }, { all: [{ activity: 'purchase', sum: { op: 'gte', value: 105.5 } }] }, true],
  ['sum is exact in cents', { events: [purchase(0.1, 1), purchase(0.2, 2)] }, { all: [{ activity: 'purchase', sum: { op: 'eq', value: 0.3 } }] }, true],
  ['sum of nothing is 0', {}, { all: [{ activity: 'purchase', sum: { op: 'lt', value: 1 } }] }, true],
  ['avg of purchases', { events: [purchase(10, 1), purchase(20, 2)] }, { all: [{ activity: 'purchase', avg: { op: 'eq', value: 15 } }] }, true],
  ['avg of nothing matches nothing', {}, { all: [{ activity: 'purchase', avg: { op: 'lt', value: 1 } }] }, false],
  ['last purchase within 7 days', { events: [purchase(10, 40), purchase(10, 3)] }, { all: [{ activity: 'purchase', last: { op: 'withinLast', value: '7d' } }] }, true],
  ['first purchase before a date', { events: [purchase(10, 40), purchase(10, 3)] }, { all: [{ activity: 'purchase', first: { op: 'before', value: '2026-05-10' } }] }, true],
  ['a custom event by name', { events: [{ type: 'custom', name: 'signup', at: CASES_NOW - DAY }] }, { all: [{ activity: 'custom', name: 'signup' }] }, true],
  ['custom event names are exact', { events: [{ type: 'custom', name: 'Signup', at: CASES_NOW - DAY }] }, { all: [{ activity: 'custom', name: 'signup' }] }, false],
  ['a custom property compared by its own type', { events: [{ type: 'custom', name: 'plan', props: { seats: 12 }, at: CASES_NOW }] }, { all: [{ activity: 'custom', where: { field: 'props.seats', op: 'gte', value: 10 } }] }, true],
  ['props.constructor exists is false on an event without it', { events: [custom({ a: 1 })] }, withProp({ field: 'props.constructor', op: 'exists' }), false],
  ['props.constructor notExists holds on an event without it', { events: [custom({ a: 1 })] }, withProp({ field: 'props.constructor', op: 'notExists' }), true],
  ['props.constructor exists on an event that has it', { events: [custom({ constructor: 'y' })] }, withProp({ field: 'props.constructor', op: 'exists' }), true],
  ['props.toString eq "x" matches the event\'s own property', { events: [custom({ toString: 'X' })] }, withProp({ field: 'props.toString', op: 'eq', value: 'x' }), true],
  ['props.toString eq "x" does not match an event without it', { events: [custom({ a: 1 })] }, withProp({ field: 'props.toString', op: 'eq', value: 'x' }), false],
  ['props.hasOwnProperty exists is false on an event without it', { events: [custom({ a: 1 })] }, withProp({ field: 'props.hasOwnProperty', op: 'exists' }), false],
  ['content clicked', { events: [{ type: 'content', name: 'clicked', contentId: 'rock', at: CASES_NOW }] }, { all: [{ activity: 'content', name: 'clicked', where: { field: 'contentId', op: 'eq', value: 'rock' } }] }, true],
  ['in a segment', { segments: ['seg_vip'] }, { all: [{ segment: 'seg_vip', op: 'in' }] }, true],
  ['not in a segment', { segments: ['seg_vip'] }, { all: [{ segment: 'seg_vip', op: 'notIn' }] }, false],
  ['any needs one', { fields: { country: 'FR' } }, { any: [{ field: 'country', op: 'eq', value: 'ES' }, { field: 'country', op: 'eq', value: 'FR' }] }, true],
  ['none refuses any', { fields: { country: 'FR' } }, { none: [{ field: 'country', op: 'eq', value: 'ES' }, { field: 'country', op: 'eq', value: 'FR' }] }, false],
  ['none over a missing field is met', {}, { none: [{ field: 'country', op: 'eq', value: 'ES' }] }, true],
  ['an empty all is met', {}, { all: [] }, true],
  ['an empty any is not', {}, { any: [] }, false],
  ['nested groups', { fields: { birthDate: '1990-01-01', country: 'ES' } }, { all: [millennials, { any: [{ field: 'country', op: 'eq', value: 'FR' }, { none: [{ field: 'country', op: 'eq', value: 'IT' }] }] }] }, true],
]
