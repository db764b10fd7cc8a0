/** The content table: what a site's workflows can show, each piece read and saved whole. */
import { type ContentSpec } from '../content/schema'

export interface Content {
  id: string
  name: string
  spec: ContentSpec
  createdAt: number
  updatedAt: number
}

interface ContentRow {
  id: string
  name: string
  spec: string
  created_at: number
  updated_at: number
}

function toContent(r: ContentRow): Content {
  return { id: r.id, name: r.name, spec: JSON.parse(r.spec), createdAt: r.created_at, updatedAt: r.updated_at }
}

export async function allContent(db: D1Database, siteId: string): Promise<Content[]> {
  const { results } = await db.prepare('SELECT * FROM content WHERE site_id = ?1 ORDER BY name COLLATE NOCASE, id').bind(siteId).all<ContentRow>()
  return results.map(toContent)
}

export async function getContent(db: D1Database, siteId: string, id: string): Promise<Content | undefined> {
  const row = await db.prepare('SELECT * FROM content WHERE site_id = ?1 AND id = ?2').bind(siteId, id).first<ContentRow>()
  return row ? toContent(row) : undefined
}

export function saveContent(db: D1Database, siteId: string, c: Content): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO content (site_id, id, name, spec, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (site_id, id) DO UPDATE SET name = ?3, spec = ?4, updated_at = ?6`,
    )
    .bind(siteId, c.id, c.name, JSON.stringify(c.spec), c.createdAt, c.updatedAt)
}

export function deleteContent(db: D1Database, siteId: string, id: string): D1PreparedStatement {
  return db.prepare('DELETE FROM content WHERE site_id = ?1 AND id = ?2').bind(siteId, id)
}
