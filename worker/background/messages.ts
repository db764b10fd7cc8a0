/**
 * The queue's messages, all the consumer is ever asked to do: write a visit to D1, rebuild contacts'
 * snapshots from D1, mark erased contacts' ids in KV, do one site's share of a scheduled pass, take one step
 * of moving a site to other shards, write one chunk of a CSV import. The queue binding is typed with their
 * union.
 */
import { type Attention } from '../visits/snapshot'
import { type Activity } from '../conditions/evaluate'
import { type Scalar } from '../conditions/types'
import { type IdentifierKind } from '../visits/identity'
import { type Pass } from '../data/flow'

/** What a decision leaves for the consumer to write to D1. */
export interface VisitMessage {
  kind: 'visit'
  /**
   * Made by the edge: the consumer writes each message once, however often the queue delivers it. Absent
   * from messages queued before visits carried ids.
   */
  id?: string
  siteId: string
  contactId: string
  /** The version of the snapshot the decision produced. */
  v: number
  /** Set when the contact was made on this request. */
  createdAt?: number
  activities: Activity[]
  /** Field changes; `email` and `externalId` here are verified identifiers the contact takes. */
  fields: Record<string, Scalar | null>
  /** Identifiers the browser gave without proof, kept on the contact as claims. */
  claims?: Partial<Record<IdentifierKind, string>>
  statics: Array<[segment: string, change: 'add' | 'remove']>
  /** The runs this visit added to node limitation counters ("workflow/node"), and when the last was. */
  counters: Array<[key: string, runs: number, lastAt: number]>
  /** The anonymous contact an identify merged into this one. */
  mergedFrom?: string
  /** What the contact has stored today, with this visit: [UTC day, bytes] (the snapshot's `q`). */
  usage?: [day: number, bytes: number]
  /** Its session and the interruptive content it was shown and closed, after this visit (the snapshot's `z`). */
  attention?: Attention
  /** The workflow nodes and branches its runs passed, for the builder's live view (absent: none). */
  passes?: Pass[]
}

/** Rebuild these contacts' snapshots from D1 (after admin changes, or time moving memberships). */
export interface RefreshMessage {
  kind: 'refresh'
  siteId: string
  contactIds: string[]
}

/** Mark these contact ids erased in KV (the rest of an erasure that named more ids than one request writes). */
export interface EraseMessage {
  kind: 'erase'
  siteId: string
  contactIds: string[]
  at: number
}

/** One site's share of a scheduled pass at time `at` (see cron.ts). */
export interface CronMessage {
  kind: 'cron'
  siteId: string
  at: number
}

/** What a step of a move pages through on a shard, in this order (see move.ts). */
export type MovePart = 'contacts' | 'aliases' | 'erased' | 'processed'

/**
 * One step of moving a site's contact data to another placement (see move.ts): copying a page of one of
 * `from`'s shards to `to`, switching the site over, or letting go of a page of what `from`'s shards no
 * longer hold. Each step queues the next.
 */
export interface MoveMessage {
  kind: 'move'
  siteId: string
  step: 'copy' | 'switch' | 'clean'
  /** The placement being left (copy, switch), or the shards that let go of what they no longer hold (clean). */
  from: string[]
  /** The placement being moved to (copy, switch), or the one the site now has (clean). */
  to: string[]
  /** Which of `from`'s shards this step reads. */
  shard: number
  part: MovePart
  /** The last key done in `part` on that shard ('' before the first page). */
  after: string
}

/**
 * Write chunk `seq` of a CSV import, all or nothing (see contacts/import.ts). The chunk's rows wait in D1,
 * so the message stays a few bytes whatever the rows hold (a queue message is at most 128 KB).
 */
export interface ImportMessage {
  kind: 'import'
  siteId: string
  importId: string
  seq: number
}

export type QueueMessage = VisitMessage | RefreshMessage | EraseMessage | CronMessage | MoveMessage | ImportMessage
