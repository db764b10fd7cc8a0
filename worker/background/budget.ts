/**
 * What one queue invocation may spend: Cloudflare allows 1,000 D1 queries (a batch is one) and 1,000 KV
 * operations an invocation. The consumer takes on a message only when the most it can cost still fits,
 * and hands the rest to a later invocation; the costs below are upper bounds, path by path. Work that
 * crosses a site's contacts asks each of its shards, so costs grow with `shards`, the most a site can be
 * spread over (the data shards the Worker has bindings for).
 */
import { type QueueMessage } from './messages'

export interface Cost {
  d1: number
  kv: number
}

/** Cloudflare's limits, less room for what is not a message's own (a retry's bookkeeping). */
export const INVOCATION_BUDGET: Cost = { d1: 950, kv: 950 }

/**
 * A site's first message in an invocation: its config (4 reads); on each shard, the ids its visits name
 * (2), the batch's one read and one write, and the rebuild's read, alias targets' read and kept
 * aggregates (3).
 */
export function siteCost(shards: number): Cost {
  return { d1: 4 + 7 * shards, kv: 0 }
}

/**
 * A visit written with the others of its site. D1: settling an identify or a merge (2 owner reads on each
 * shard, 3 identity reads; a merge across shards: the merged contact and its alias read, its release, and
 * its aliases repointed on each other shard), its contact's history when no aggregates are kept (1), and
 * its rebuild (an alias, a history: 2). KV: marking an erased contact (2), a redirect (1), the rebuild's
 * read and write (2), the last error kept for a retry (1).
 */
export function visitCost(identifies: boolean, shards = 1): Cost {
  return { d1: (identifies ? 3 * shards + 6 : 0) + 3, kv: 6 }
}

/**
 * A visit written on its own after its site's transaction failed, and once more without its identity:
 * the ids it names and whether it was written (on each shard), and two attempts.
 */
export function aloneCost(shards: number): Cost {
  return { d1: 3 * shards + 2 * (visitCost(true, shards).d1 + 1), kv: 0 }
}

/** Each contact a refresh rebuilds: an alias and a history read, a KV read and write. */
export const REFRESH_CONTACT_COST: Cost = { d1: 2, kv: 2 }

/** Contacts a refresh message names: 20 rebuilds cost at most 40 D1 reads and 40 KV operations. */
export const REFRESH_CHUNK = 20

/**
 * A site's share of a scheduled pass: the site and its config (5 reads), its dead letters pruned (up to
 * ACTIVITY_ROUNDS: 10), and on each shard the time-dependent segments recomputed (1 batch), the segments'
 * member counts for their trends (1 batch) and pruning
 * (ACTIVITY_ROUNDS + CONTACT_ROUNDS of retention.ts: 14, and what the pruned contacts leave on the
 * control database and the other shards: 1 + (shards - 1)); the config published (1 KV write, and the old
 * key's removal).
 */
export function cronSiteCost(shards: number): Cost {
  return { d1: 15 + shards * (16 + shards), kv: 2 }
}

/**
 * One step of a site's move (move.ts), the most of its kinds: a copy reads the site, a page of keys and
 * the page's rows (3), then on each shard it writes to, one batch and a count of the contacts that
 * arrived (2); the switch reads the site, moves the placement and publishes the config (6 reads and
 * writes, 1 KV write); a clean reads the site and a page, deletes, and may drop the site's live counts and row (5).
 */
export function moveCost(shards: number): Cost {
  return { d1: 6 + 2 * shards, kv: 1 }
}

/**
 * One chunk of a CSV import (contacts/import.ts): the import and chunk, the site and the segment it adds
 * to (3 reads), the record of what it came to (1); on each shard the rows' identifiers and their owners
 * (2), the ids of new contacts checked against erasures and merges (1), and the write: the segments read
 * again and one batch (2). No KV operation: the snapshots it changes are rebuilt through the queue.
 */
export function importCost(shards: number): Cost {
  return { d1: 4 + 5 * shards, kv: 0 }
}

/**
 * Chunks of CSV imports one invocation writes at most, whatever its budget has left (their D1 cost alone
 * would let 67 in): each writes up to 1,000 contacts, about 0.2 s of local D1, so ten keep an invocation
 * to a couple of seconds and the visits in its batch are not held up behind a whole import.
 */
export const IMPORT_CHUNKS_AN_INVOCATION = 10

/** The most a message can cost its invocation, its site's first-message cost aside. */
export function messageCost(m: QueueMessage, shards = 1): Cost {
  switch (m.kind) {
    case 'visit':
      return visitCost(m.mergedFrom !== undefined || typeof m.fields.email === 'string' || typeof m.fields.externalId === 'string', shards)
    case 'refresh':
      // A contact's rebuild reads its own shard (the alias first, then the contact it leads to).
      return { d1: REFRESH_CONTACT_COST.d1 * m.contactIds.length + 2 * shards, kv: REFRESH_CONTACT_COST.kv * m.contactIds.length }
    case 'erase':
      return { d1: 0, kv: m.contactIds.length }
    case 'cron':
      return cronSiteCost(shards)
    case 'move':
      return moveCost(shards)
    case 'import':
      return importCost(shards)
  }
}

/** What is left of an invocation's budget; `take` spends it only when the whole cost fits. */
export class Budget {
  private left: Cost

  constructor(limit: Cost = INVOCATION_BUDGET) {
    this.left = { ...limit }
  }

  take(cost: Cost): boolean {
    if (cost.d1 > this.left.d1 || cost.kv > this.left.kv) return false
    this.left = { d1: this.left.d1 - cost.d1, kv: this.left.kv - cost.kv }
    return true
  }

  /** Spends all that is left: the invocation takes on nothing more. */
  spendAll(): void {
    this.left = { d1: 0, kv: 0 }
  }
}
