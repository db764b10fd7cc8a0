/**
 * The in-memory evaluator and the SQL compiler must give the same membership for every contact, every
 * condition tree and every moment. fast-check generates contacts (with values of the wrong type, dates
 * that do not exist, text that differs only in case), their activities and static memberships, then
 * condition trees whose operands are mostly taken from those very values (re-cased, cut, nudged by a
 * day or a unit) so that hits, near misses and boundaries are common; each tree runs in memory and as
 * both shapes of SQL (per contact, and grouped over the site) on D1. Field keys, property names and text
 * are also drawn from the names of Object.prototype's members, which must behave like any other name.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Activity, evaluate, historyFacts } from '../../worker/conditions/evaluate'
import { FieldCatalog } from '../../worker/conditions/fields'
import { prepare } from '../../worker/conditions/prepare'
import { compileSql } from '../../worker/conditions/sql'
import { ACTIVITY_TYPES, type Condition, DATE_MEASURE_OPS, FIELD_OPS, MEASURE_OPS } from '../../worker/conditions/types'
import { fieldValues, getContact } from '../../worker/data/contacts'
import { dataOf, loadContacts, putSite, rowsOf } from './fixtures'

const SITE = 'prop'
const NOW = Date.UTC(2026, 5, 15, 12, 0, 0)
const DAY = 86_400_000
const RUNS = 1000
const catalog = new FieldCatalog([
  { key: 'genre', type: 'string' },
  { key: 'score', type: 'number' },
  { key: 'vip', type: 'boolean' },
  { key: 'renewal', type: 'date' },
  { key: 'constructor', type: 'string' },
  { key: 'toString', type: 'number' },
])
/** Names an object inherits; `__proto__` is refused as a field key and as a property name, the others are not. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const

// ---- contacts and their activities ----

const PIECES = ['a', 'A', 'b', '/rock', '/ROCK', 'jazz', '%', '_', '\\', "'", 'É', 'é', 'ß', 'ẞ', '😀', ' ', '-', 'constructor', '__proto__']
/** Stored text has passed the door, which refuses NUL; operands may still hold one and must match nothing. */
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 4 }).map((parts) => parts.join(''))
const dayText = (d: number) => new Date(d * DAY).toISOString().slice(0, 10)
const dateText = fc.oneof(fc.integer({ min: 4380, max: 4390 }).map(dayText), fc.integer({ min: -7300, max: 22000 }).map(dayText))
const badDate = fc.constantFrom('2023-02-30', '1990-13-01', '1990-1-1', 'soon', '0000-01-01', '1999-12-31T00:00:00Z')
const number = fc.oneof(
  fc.integer({ min: -1, max: 12 }),
  fc.double({ min: -10, max: 200, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1.5, 100),
)
const instantAround = fc
  .tuple(fc.integer({ min: -3, max: 60 }), fc.constantFrom(0, 1, -1, 3_600_000, 43_200_000))
  .map(([days, ms]) => NOW - days * DAY + ms)
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined })

const contactArb = fc.record({
  firstName: maybe(fc.oneof(text, fc.constantFrom('Ana', 'ANA', 'é'))),
  country: maybe(fc.constantFrom('ES', 'es', 'FR', 'fr', 'Es', '')),
  birthDate: maybe(fc.oneof(dateText, badDate)),
  newsletter: maybe(fc.constantFrom('subscribed', 'unsubscribed')),
  genre: maybe(fc.oneof(text, fc.constantFrom('Rock', 'JAZZ'), number, fc.boolean())),
  score: maybe(fc.oneof(number, text)),
  vip: maybe(fc.oneof(fc.boolean(), text)),
  renewal: maybe(fc.oneof(dateText, badDate, number)),
  constructor: maybe(fc.oneof(text, fc.constantFrom(...PROTOTYPE_NAMES), number)),
  toString: maybe(fc.oneof(number, text)),
  valueOf: maybe(fc.oneof(text, number)),
  createdAt: instantAround,
  lastSeenAt: maybe(instantAround),
  email: maybe(fc.constantFrom('ana@example.com', 'bob@gmail.com', 'zoe@EXAMPLE.com')),
  segments: fc.subarray(['seg_a', 'seg_b']),
  events: fc.array(
    fc.record({
      type: fc.constantFrom(...ACTIVITY_TYPES),
      at: instantAround,
      url: maybe(fc.constantFrom('https://shop.example/rock/1', 'https://shop.example/Jazz', 'https://shop.example/', '/ROCK%_', 'https://shop.example/constructor', 'https://shop.example/?__proto__=toString')),
      title: maybe(text),
      name: maybe(fc.constantFrom('signup', 'shown', 'clicked', 'Signup', 'constructor')),
      contentId: maybe(fc.constantFrom('rock', 'jazz')),
      amountMilli: maybe(fc.oneof(fc.constantFrom(0, 5000, 50000, 99999, 100000, 150500), fc.integer({ min: 0, max: 200_000 }))),
      currency: maybe(fc.constantFrom('EUR', 'USD')),
      // Stored properties come back from JSON, so every props object inherits from Object.prototype.
      props: maybe(fc.dictionary(
        fc.constantFrom('plan', 'n', ...PROTOTYPE_NAMES),
        fc.oneof(fc.constantFrom('pro', 'PRO', 5, 50, ...PROTOTYPE_NAMES), text, number, fc.boolean()),
        { maxKeys: 3, noNullPrototype: true },
      )),
    }),
    { maxLength: 8 },
  ),
})
type GeneratedContact = typeof contactArb extends fc.Arbitrary<infer T> ? T : never

// ---- condition trees, with operands drawn from the generated data ----

interface Pool {
  strings: string[]
  numbers: number[]
  dates: string[]
  instants: string[]
}

function poolOf(contacts: GeneratedContact[]): Pool {
  const pool: Pool = { strings: ['', 'a', ...PROTOTYPE_NAMES], numbers: [0, 1], dates: ['1990-01-01'], instants: [new Date(NOW).toISOString()] }
  for (const c of contacts) {
    for (const v of [c.firstName, c.country, c.email, c.genre, c.score, c.vip, c.newsletter, c.birthDate, c.renewal, c.constructor, c.toString, c.valueOf]) {
      if (typeof v === 'string') (/^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) ? pool.dates : pool.strings).push(v)
      if (typeof v === 'number') pool.numbers.push(v)
    }
    pool.instants.push(new Date(c.createdAt).toISOString())
    for (const e of c.events) {
      pool.instants.push(new Date(e.at).toISOString())
      for (const v of [e.url, e.title, e.name, e.currency, e.contentId, ...Object.values(e.props ?? {})]) {
        if (typeof v === 'string') pool.strings.push(v)
        if (typeof v === 'number') pool.numbers.push(v)
      }
      if (e.amountMilli !== undefined) pool.numbers.push(e.amountMilli / 1000)
    }
  }
  return pool
}

const duration = fc.constantFrom('1d', '7d', '30d', '12h', '2w', '15m', '30x', 7)
const STRING_OPS = ['eq', 'ne', 'in', 'notIn', 'contains', 'notContains', 'startsWith', 'endsWith', 'exists', 'notExists'] as const
const NUMBER_OPS = ['eq', 'ne', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte', 'between', 'exists', 'notExists'] as const
const DATE_OPS = ['eq', 'ne', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte', 'between', 'before', 'after', 'withinLast', 'olderThan', 'exists', 'notExists'] as const

function treeArb(pool: Pool): fc.Arbitrary<Condition> {
  const str = fc.oneof(
    { arbitrary: fc.constantFrom(...pool.strings), weight: 2 },
    { weight: 3, arbitrary: fc.constantFrom(...pool.strings).chain((s) =>
      fc.oneof(
        fc.constant(s.toUpperCase()),
        fc.constant(s.toLowerCase()),
        fc.nat(s.length).map((n) => s.slice(0, n)),
        fc.nat(s.length).map((n) => s.slice(n)),
        fc.constant(s.slice(1, -1)),
      )) },
    text,
    fc.array(fc.constantFrom(...PIECES, '\u0000'), { minLength: 1, maxLength: 3 }).map((p) => p.join('')),
  )
  const num = fc.oneof(
    { arbitrary: fc.constantFrom(...pool.numbers), weight: 2 },
    fc.tuple(fc.constantFrom(...pool.numbers), fc.constantFrom(-1, 1, 0.001, -0.001)).map(([n, d]) => n + d),
    number,
  )
  const date = fc.oneof(
    { arbitrary: fc.constantFrom(...pool.dates), weight: 2 },
    fc.tuple(fc.constantFrom(...pool.dates), fc.constantFrom(-1, 1)).map(([d, k]) => dayText(Date.parse(d) / DAY + k)),
    dateText,
  )
  const instant = fc.oneof(
    { arbitrary: fc.constantFrom(...pool.instants), weight: 2 },
    fc.tuple(fc.constantFrom(...pool.instants), fc.constantFrom(-1, 1, DAY)).map(([t, d]) => new Date(Date.parse(t) + d).toISOString()),
    fc.constantFrom(...pool.dates),
  )
  const operand = <T>(one: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: one, weight: 5 }, fc.array(one, { maxLength: 3 }), fc.tuple(one, one), duration, fc.constant(undefined))
  const anything = fc.oneof(str, num, fc.boolean(), date, badDate, duration, fc.array(fc.oneof(str, num), { maxLength: 3 }), fc.tuple(num, num), fc.constant(undefined))

  const fieldClause = fc.oneof(
    { arbitrary: fc.record({ field: fc.constantFrom('firstName', 'country', 'email', 'genre', 'newsletter', 'constructor'), op: fc.constantFrom(...STRING_OPS), value: operand(str) }), weight: 3 },
    { arbitrary: fc.record({ field: fc.constantFrom('score', 'toString'), op: fc.constantFrom(...NUMBER_OPS), value: operand(num) }), weight: 2 },
    fc.record({ field: fc.constant('vip'), op: fc.constantFrom('eq', 'ne', 'exists', 'notExists'), value: fc.boolean() }),
    { arbitrary: fc.record({ field: fc.constantFrom('birthDate', 'renewal'), op: fc.constantFrom(...DATE_OPS), value: operand(date) }), weight: 2 },
    { arbitrary: fc.record({ field: fc.constantFrom('createdAt', 'lastSeenAt'), op: fc.constantFrom(...DATE_OPS), value: operand(instant) }), weight: 2 },
    fc.record({
      field: fc.constantFrom('firstName', 'birthDate', 'createdAt', 'score', 'vip', 'renewal', 'mystery', ...PROTOTYPE_NAMES),
      op: fc.constantFrom(...FIELD_OPS),
      value: anything,
    }),
  )
  const props = PROTOTYPE_NAMES.map((k) => `props.${k}`)
  const predicate = fc.oneof(
    { arbitrary: fc.record({ field: fc.constantFrom('url', 'title', 'name', 'currency', 'contentId', 'props.plan', ...props), op: fc.constantFrom(...STRING_OPS), value: operand(str) }), weight: 3 },
    fc.record({ field: fc.constantFrom('amount', 'props.n', ...props), op: fc.constantFrom(...NUMBER_OPS), value: operand(num) }),
    fc.record({ field: fc.constantFrom('props.plan', 'props.n', ...props), op: fc.constantFrom('exists', 'notExists') }),
    fc.record({ field: fc.constantFrom('url', 'amount', 'props.plan', 'props.n', 'orderId', 'bogus', ...props), op: fc.constantFrom(...FIELD_OPS), value: anything }),
  )
  const measure = fc.record({ op: fc.constantFrom(...MEASURE_OPS), value: fc.oneof(fc.integer({ min: 0, max: 4 }), num, fc.tuple(fc.nat(3), fc.nat(5)), fc.tuple(num, num), str) })
  const dateMeasure = fc.record({ op: fc.constantFrom(...DATE_MEASURE_OPS), value: fc.oneof(instant, duration, fc.tuple(instant, instant)) })
  const activityClause = fc
    .record(
      {
        activity: fc.constantFrom(...ACTIVITY_TYPES),
        name: fc.constantFrom('signup', 'shown', 'Signup', 'constructor'),
        where: fc.oneof(predicate, fc.array(predicate, { maxLength: 2 })),
        within: duration,
        measure: fc.constantFrom('none', 'count', 'sum', 'avg', 'first', 'last'),
        spec: measure,
        dateSpec: dateMeasure,
      },
      { requiredKeys: ['activity', 'measure', 'spec', 'dateSpec'] },
    )
    .map(({ measure: m, spec, dateSpec, ...rest }) => (m === 'none' ? rest : { ...rest, [m]: m === 'first' || m === 'last' ? dateSpec : spec }))
  const segmentClause = fc.record({ segment: fc.constantFrom('seg_a', 'seg_b', 'seg_missing'), op: fc.constantFrom('in', 'notIn') })
  const clause = fc.oneof({ arbitrary: fieldClause, weight: 3 }, { arbitrary: activityClause, weight: 3 }, segmentClause) as fc.Arbitrary<Condition>

  const { group } = fc.letrec<{ group: Condition; node: Condition }>((tie) => ({
    group: fc
      .tuple(fc.constantFrom('all', 'any', 'none'), fc.array(tie('node'), { maxLength: 3 }))
      .map(([kind, children]) => ({ [kind]: children }) as Condition),
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, { arbitrary: clause, weight: 3 }, tie('group')),
  }))
  return fc.oneof({ arbitrary: clause.map((c) => ({ all: [c] })), weight: 2 }, group)
}

// ---- running both ways ----

async function load(contacts: GeneratedContact[]) {
  const fixtures = contacts.map(({ createdAt, lastSeenAt, email, segments, events, ...fields }, i) => ({
    id: `c${i}`,
    email: email === undefined ? undefined : `${i}.${email}`,
    fields: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean>,
    createdAt,
    lastSeenAt,
    segments,
    events: events.map((e, j) => ({ ...Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)), id: `c${i}-e${j}` }) as Activity),
  }))
  await loadContacts(SITE, fixtures, NOW)
  const data = await dataOf(SITE)
  return Promise.all(
    fixtures.map(async (f) => {
      const stored = (await getContact(data.of(f.id), SITE, f.id))!
      return { id: f.id, facts: historyFacts(fieldValues(stored), f.events, new Set(f.segments)) }
    }),
  )
}

describe('condition engine: evaluator and SQL compiler', () => {
  beforeAll(async () => {
    await putSite(SITE, catalog.customDefinitions())
  })

  it('agree on membership for generated contacts, activities and condition trees', async () => {
    let trees = 0
    let splitting = 0
    const data = fc.array(contactArb, { minLength: 2, maxLength: 6 }).chain((contacts) =>
      fc.tuple(fc.constant(contacts), fc.array(treeArb(poolOf(contacts)), { minLength: 1, maxLength: 4 })))
    await fc.assert(
      fc.asyncProperty(data, async ([contacts, conditionTrees]) => {
        const loaded = await load(contacts)
        for (const t of conditionTrees) {
          const prepared = prepare(t, catalog)
          const expected = loaded.filter((c) => evaluate(prepared, c.facts, NOW)).map((c) => c.id).sort()
          for (const siteId of [undefined, SITE]) {
            // Each shard answers for the contacts it holds, as the Worker asks it.
            const results = await rowsOf<{ id: string }>(SITE, `SELECT c.id FROM contacts c WHERE c.site_id = ?1 AND ${compileSql(prepared, NOW, siteId)}`, SITE)
            expect(results.map((r) => r.id).sort(), `${siteId ? 'grouped' : 'per contact'}: ${JSON.stringify(t)}`).toEqual(expected)
          }
          trees++
          if (expected.length > 0 && expected.length < loaded.length) splitting++
        }
      }),
      { numRuns: RUNS },
    )
    console.log(`conditions agree: ${trees} condition trees over ${RUNS} generated data sets; ${splitting} of them split the contacts`)
    expect(splitting).toBeGreaterThan(trees / 10)
  }, 240_000)
})
