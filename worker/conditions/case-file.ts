/**
 * The pinned cases of the condition language, read from cases.json (whose `description` gives the
 * format, for implementations in other languages) and turned into what Segue's engines take: times in
 * epoch ms, amounts in thousandths, activities with ids. The evaluator's, the SQL compiler's and the
 * snapshot aggregates' tests all run these.
 */
import file from './cases.json'
import { parseDuration } from './durations'
import { type Activity } from './evaluate'
import { type CustomFieldDefinition } from './fields'
import { AMOUNT_SCALE } from './prepare'
import { type Condition, type Scalar } from './types'

interface CaseFile {
  specVersion: string
  now: string
  fields: CustomFieldDefinition[]
  cases: Array<[name: string, contact: FileContact, condition: Condition, expected: boolean]>
}

interface FileContact {
  email?: string
  fields?: Record<string, Scalar>
  createdAt?: string
  events?: Array<Omit<Activity, 'id' | 'at' | 'amountMilli'> & { at: string; amount?: number }>
  segments?: string[]
}

export interface CaseContact {
  email?: string
  fields: Record<string, Scalar>
  createdAt: number
  /** With ids e0, e1… in the file's order. */
  events: Activity[]
  segments: string[]
}

export type ConditionCase = [name: string, contact: CaseContact, condition: Condition, expected: boolean]

const SPEC = file as unknown as CaseFile
// The loader reads version 1 of the format; a major version changes what a case means.
if (!/^1\.\d+\.\d+$/.test(SPEC.specVersion)) throw new Error(`cases.json is version ${SPEC.specVersion}; this loader reads 1.x`)

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** "now", "-3d" (a signed duration from now) or an ISO date-time with a zone, in epoch ms. */
function timeOf(text: string, now: number, where: string): number {
  if (text === 'now') return now
  const offset = parseDuration(text.slice(1))
  if ((text[0] === '-' || text[0] === '+') && offset !== undefined) return text[0] === '-' ? now - offset : now + offset
  if (ISO_INSTANT.test(text)) return Date.parse(text)
  throw new Error(`${where}: "${text}" is not a time ("now", "-3d" or an ISO date-time with a zone)`)
}

/** "Now" for every case. */
export const CASES_NOW = ISO_INSTANT.test(SPEC.now) ? Date.parse(SPEC.now) : Number.NaN
if (Number.isNaN(CASES_NOW)) throw new Error(`cases.json: now "${SPEC.now}" is not an ISO date-time with a zone`)

/** The custom fields of the site every case runs on. */
export const CASE_FIELDS: CustomFieldDefinition[] = SPEC.fields

function contactOf(name: string, c: FileContact): CaseContact {
  return {
    email: c.email,
    fields: c.fields ?? {},
    createdAt: c.createdAt === undefined ? CASES_NOW : timeOf(c.createdAt, CASES_NOW, name),
    events: (c.events ?? []).map(({ at, amount, ...rest }, i): Activity => ({
      ...rest,
      id: `e${i}`,
      at: timeOf(at, CASES_NOW, name),
      ...(amount === undefined ? {} : { amountMilli: Math.round(amount * AMOUNT_SCALE) }),
    })),
    segments: c.segments ?? [],
  }
}

export const CONDITION_CASES: ConditionCase[] = SPEC.cases.map(([name, contact, condition, expected]) => [name, contactOf(name, contact), condition, expected])

const names = new Set(CONDITION_CASES.map(([name]) => name))
if (names.size !== CONDITION_CASES.length) throw new Error('cases.json: case names must be unique')
