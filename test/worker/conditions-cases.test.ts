import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { CASES_NOW, CASE_FIELDS, CONDITION_CASES } from '../../worker/conditions/cases'
import { FieldCatalog } from '../../worker/conditions/fields'
import { prepare } from '../../worker/conditions/prepare'
import { compileSql } from '../../worker/conditions/sql'
import { loadContacts, putSite } from './fixtures'

const SITE = 'cases'
const catalog = new FieldCatalog(CASE_FIELDS)

describe('compileSql', () => {
  beforeAll(() => putSite(SITE, CASE_FIELDS))

  it.each(CONDITION_CASES)('%s', async (_name, contact, condition, expected) => {
    await loadContacts(SITE, [{
      id: 'c1',
      email: contact.email,
      fields: contact.fields,
      createdAt: contact.createdAt ?? CASES_NOW,
      events: (contact.events ?? []).map((e, i) => ({ ...e, id: `e${i}` })),
      segments: contact.segments,
    }], CASES_NOW)
    for (const siteId of [undefined, SITE]) {
      const row = await env.DB.prepare(`SELECT count(*) AS n FROM contacts c WHERE c.site_id = ?1 AND ${compileSql(prepare(condition, catalog), CASES_NOW, siteId)}`)
        .bind(SITE)
        .first<{ n: number }>()
      expect(row?.n === 1, siteId ? 'grouped over the site' : 'per contact').toBe(expected)
    }
  })
})
