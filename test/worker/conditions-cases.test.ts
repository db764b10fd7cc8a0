/**
 * The SQL compiler against the pinned cases of cases.json, in workerd on a local D1: each case's contact
 * meets the compiled condition exactly when the case says, per contact and grouped over the site.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { CASES_NOW, CASE_FIELDS, CONDITION_CASES } from '../../worker/conditions/case-file'
import { FieldCatalog } from '../../worker/conditions/fields'
import { prepare } from '../../worker/conditions/prepare'
import { compileSql } from '../../worker/conditions/sql'
import { dataOf, loadContacts, putSite } from './fixtures'

const SITE = 'cases'
const catalog = new FieldCatalog(CASE_FIELDS)

/** Whether the case's one contact meets `where`, asked of the shard that holds it. */
async function meets(where: string): Promise<boolean> {
  const row = await (await dataOf(SITE)).of('c1').prepare(`SELECT count(*) AS n FROM contacts c WHERE c.site_id = ?1 AND ${where}`).bind(SITE).first<{ n: number }>()
  return row?.n === 1
}

describe('compileSql', () => {
  beforeAll(() => putSite(SITE, CASE_FIELDS))

  // Both shapes on every case: per contact (as for a few contacts) and grouped over the site (as for a backfill).
  it.each(CONDITION_CASES)('%s', async (_name, contact, condition, expected) => {
    await loadContacts(SITE, [{ id: 'c1', ...contact }], CASES_NOW)
    const node = prepare(condition, catalog)
    const verdicts = { perContact: await meets(compileSql(node, CASES_NOW)), grouped: await meets(compileSql(node, CASES_NOW, SITE)) }
    expect(verdicts).toEqual({ perContact: expected, grouped: expected })
  })
})
