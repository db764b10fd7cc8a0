/**
 * The identifiers that find a contact: its own verified email and external id (columns of contacts), and
 * those it kept when other contacts were merged into it (contact_identities). Claims a browser made
 * without a signature never find anyone.
 */
import { type Identifier, type IdentifierKind } from '../visits/identity'
import { type SiteData } from './shards'

const COLUMN: Record<IdentifierKind, 'email' | 'external_id'> = { email: 'email', externalId: 'external_id' }
const KIND: Record<'email' | 'external_id', IdentifierKind> = { email: 'email', external_id: 'externalId' }

/**
 * The contact a verified identifier belongs to, if any: asked of every shard of the site at once (the
 * contact may live on any), two index lookups each.
 */
export async function ownerOf(data: SiteData, siteId: string, id: Identifier): Promise<string | undefined> {
  const found = await data.each((db) => ownerOn(db, siteId, id))
  return found.find((owner) => owner !== undefined)
}

async function ownerOn(db: D1Database, siteId: string, id: Identifier): Promise<string | undefined> {
  const column = COLUMN[id.kind]
  const row = await db
    .prepare(
      `SELECT id FROM contacts WHERE site_id = ?1 AND ${column} = ?2
       UNION ALL
       SELECT contact_id FROM contact_identities WHERE site_id = ?1 AND kind = ?3 AND value = ?2 AND verified = 1
       LIMIT 1`,
    )
    .bind(siteId, id.value, column)
    .first<{ id: string }>()
  return row?.id
}

/** A contact's own verified identifiers; undefined when there is no such contact. */
export async function identityOf(db: D1Database, siteId: string, contactId: string): Promise<Record<IdentifierKind, string | null> | undefined> {
  const row = await db
    .prepare('SELECT email, external_id FROM contacts WHERE site_id = ?1 AND id = ?2')
    .bind(siteId, contactId)
    .first<{ email: string | null; external_id: string | null }>()
  return row ? { email: row.email, externalId: row.external_id } : undefined
}

/** An identifier a contact kept from a contact merged into it. */
export interface KeptIdentifier extends Identifier {
  verified: boolean
  since: number
}

/** The identifiers a contact kept from merges, verified ones first. */
export async function keptIdentifiersOf(db: D1Database, siteId: string, contactId: string): Promise<KeptIdentifier[]> {
  const { results } = await db
    .prepare('SELECT kind, value, verified, created_at FROM contact_identities WHERE site_id = ?1 AND contact_id = ?2 ORDER BY verified DESC, kind, value')
    .bind(siteId, contactId)
    .all<{ kind: 'email' | 'external_id'; value: string; verified: number; created_at: number }>()
  return results.map((r) => ({ kind: KIND[r.kind], value: r.value, verified: r.verified === 1, since: r.created_at }))
}

/** The contacts that hold any of these emails or external ids as kept, verified identifiers (one shard's). */
export async function keptOwners(db: D1Database, siteId: string, keys: { emails: string[]; externalIds: string[] }): Promise<Array<Identifier & { contactId: string }>> {
  if (keys.emails.length === 0 && keys.externalIds.length === 0) return []
  const { results } = await db
    .prepare(
      `SELECT kind, value, contact_id FROM contact_identities INDEXED BY contact_identities_verified
         WHERE site_id = ?1 AND kind = 'email' AND value IN (SELECT value FROM json_each(?2)) AND verified = 1
       UNION ALL
       SELECT kind, value, contact_id FROM contact_identities INDEXED BY contact_identities_verified
         WHERE site_id = ?1 AND kind = 'external_id' AND value IN (SELECT value FROM json_each(?3)) AND verified = 1`,
    )
    .bind(siteId, JSON.stringify(keys.emails), JSON.stringify(keys.externalIds))
    .all<{ kind: 'email' | 'external_id'; value: string; contact_id: string }>()
  return results.map((r) => ({ kind: KIND[r.kind], value: r.value, contactId: r.contact_id }))
}
