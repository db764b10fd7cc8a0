import { type Activity } from '../conditions/evaluate'
import { type Scalar } from '../conditions/types'

/** What a decision leaves for the consumer to write to D1. */
export interface VisitMessage {
  kind: 'visit'
  siteId: string
  contactId: string
  /** The version of the snapshot the decision produced. */
  v: number
  /** Set when the contact was made on this request. */
  createdAt?: number
  activities: Activity[]
  fields: Record<string, Scalar | null>
  statics: Array<[segment: string, change: 'add' | 'remove']>
  counters: Array<[key: string, runs: number, lastAt: number]>
  /** The anonymous contact an identify merged into this one. */
  mergedFrom?: string
}

/** Rebuild these contacts' snapshots from D1 (after admin changes, or time moving memberships). */
export interface RefreshMessage {
  kind: 'refresh'
  siteId: string
  contactIds: string[]
}

export type QueueMessage = VisitMessage | RefreshMessage
