/**
 * The wrangler.toml reading that `npm run db:migrate`, `npm run dev` and `npm run shard:add` rely on, on
 * the repository's own wrangler.toml.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { addShardBlock, createdDatabaseId, d1Databases, inMigrationOrder, nextShardNumber } from './databases.mjs'

const toml = readFileSync(new URL('../wrangler.toml', import.meta.url), 'utf8')
const pick = (databases: ReturnType<typeof d1Databases>) =>
  databases.map(({ binding, database_name, database_id, migrations_dir }) => ({ binding, database_name, database_id, migrations_dir }))

describe('d1Databases', () => {
  it('reads the control database and the two shards of wrangler.toml, with their names and migrations dirs', () => {
    expect(pick(d1Databases(toml))).toEqual([
      { binding: 'DB', database_name: 'segue', database_id: '00000000-0000-4000-8000-000000000000', migrations_dir: 'migrations' },
      { binding: 'SHARD_1', database_name: 'segue-shard-1', database_id: '00000000-0000-4000-8000-000000000001', migrations_dir: 'migrations' },
      { binding: 'SHARD_2', database_name: 'segue-shard-2', database_id: '00000000-0000-4000-8000-000000000002', migrations_dir: 'migrations' },
    ])
  })

  it('skips environments, allows comments and literal strings, and refuses what it cannot read', () => {
    const text = [
      '[[d1_databases]]',
      "binding = 'DB' # the control database",
      'database_name = "segue"',
      '',
      '[[env.staging.d1_databases]]',
      'binding = "DB"',
      'database_name = "segue-staging"',
    ].join('\n')
    expect(pick(d1Databases(text))).toEqual([{ binding: 'DB', database_name: 'segue', database_id: undefined, migrations_dir: undefined }])
    expect(() => d1Databases('[[d1_databases]]\nbinding = "DB"\n')).toThrow(/needs binding and database_name/)
    expect(() => d1Databases('[[d1_databases]]\nbinding = "D\\"B"\ndatabase_name = "x"\n')).toThrow(/line 2/)
    expect(() => d1Databases('d1_databases = [{ binding = "DB" }]\n')).toThrow(/inline array/)
  })

  it('orders the control database first and the shards by number, and numbers the next shard after the highest', () => {
    const databases = d1Databases(
      ['SHARD_10', 'SHARD_2', 'DB'].map((b) => `[[d1_databases]]\nbinding = "${b}"\ndatabase_name = "${b}"\n`).join('\n'),
    )
    expect(inMigrationOrder(databases).map((d) => d.binding)).toEqual(['DB', 'SHARD_2', 'SHARD_10'])
    expect(nextShardNumber(databases)).toBe(11)
    expect(nextShardNumber(d1Databases(toml))).toBe(3)
  })
})

describe('addShardBlock', () => {
  it('adds SHARD_3 with the placeholder id right after the last D1 block, and the result reads back as four databases', () => {
    const added = addShardBlock(toml, 3)
    const block = [
      '',
      '[[d1_databases]]',
      'binding = "SHARD_3"',
      'database_name = "segue-shard-3"',
      'database_id = "00000000-0000-4000-8000-000000000003"',
      'migrations_dir = "migrations"',
      '',
    ].join('\n')
    const after = 'binding = "SHARD_2"\ndatabase_name = "segue-shard-2"\ndatabase_id = "00000000-0000-4000-8000-000000000002"\nmigrations_dir = "migrations"\n'
    expect(added).toContain(after + block + '\n# Compiled site configs')
    expect(added.replace(block, '')).toBe(toml)
    const databases = d1Databases(added)
    expect(databases).toHaveLength(4)
    expect(pick(databases)[3]).toEqual({
      binding: 'SHARD_3',
      database_name: 'segue-shard-3',
      database_id: '00000000-0000-4000-8000-000000000003',
      migrations_dir: 'migrations',
    })
  })

  it('uses the id it is given', () => {
    const id = '4f2a0c9e-1b3d-4e5f-8a7b-9c0d1e2f3a4b'
    expect(d1Databases(addShardBlock(toml, 3, id))[3].database_id).toBe(id)
  })

  it('refuses a shard that exists', () => {
    expect(() => addShardBlock(toml, 2)).toThrow(/already declares SHARD_2/)
    expect(() => addShardBlock(addShardBlock(toml, 3), 3)).toThrow(/already declares SHARD_3/)
  })
})

describe('createdDatabaseId', () => {
  it('takes the id from the snippet wrangler d1 create prints', () => {
    const output = [
      "✅ Successfully created DB 'segue-shard-3' in region WEUR",
      'Created your new D1 database.',
      '',
      '[[d1_databases]]',
      'binding = "segue_shard_3"',
      'database_name = "segue-shard-3"',
      'database_id = "4F2A0C9E-1B3D-4E5F-8A7B-9C0D1E2F3A4B"',
    ].join('\n')
    expect(createdDatabaseId(output)).toBe('4f2a0c9e-1b3d-4e5f-8a7b-9c0d1e2f3a4b')
    expect(() => createdDatabaseId('Created your new D1 database.')).toThrow(/cannot find/)
  })
})
