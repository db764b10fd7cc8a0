/**
 * The D1 databases wrangler.toml declares, for the scripts that act on all of them (`npm run db:migrate`,
 * `npm run dev`, `npm run deploy`) and the one that adds a data shard (`npm run shard:add`). The file is
 * read as ./wrangler-toml.mjs reads it: top-level `[[d1_databases]]` blocks of single-line values; of each
 * block this reports binding, database_name, database_id and migrations_dir.
 */
import { tomlTables } from './wrangler-toml.mjs'

/** Bindings named SHARD_<n> are data shards; any other D1 binding (DB) is the control database. */
export const SHARD_BINDING = /^SHARD_([1-9][0-9]*)$/

/**
 * @typedef {{ binding: string, database_name: string, database_id?: string, migrations_dir?: string,
 *   line: number, endLine: number }} D1Database
 * line: the 0-based index of the block's `[[d1_databases]]` line; endLine: of its last key line.
 */

/**
 * The top-level D1 databases of a wrangler.toml, in the order the file declares them.
 * @param {string} tomlText
 * @returns {D1Database[]}
 */
export function d1Databases(tomlText) {
  return tomlTables(tomlText, '[[d1_databases]]').map(({ values, line, endLine }) => {
    if (!values.binding || !values.database_name) {
      throw new Error(`wrangler.toml line ${line + 1}: a [[d1_databases]] block needs binding and database_name`)
    }
    return {
      binding: values.binding,
      database_name: values.database_name,
      ...(values.database_id !== undefined && { database_id: values.database_id }),
      ...(values.migrations_dir !== undefined && { migrations_dir: values.migrations_dir }),
      line,
      endLine,
    }
  })
}

/**
 * The shard number of a binding, or undefined if it is not a data shard.
 * @param {string} binding
 */
export function shardNumber(binding) {
  const m = SHARD_BINDING.exec(binding)
  return m ? Number(m[1]) : undefined
}

/**
 * The number the next shard gets: one more than the highest SHARD_<n> (1 if there is none). Numbers
 * below it are not reused, so that a shard removed from the file never shares a name with a new one.
 * @param {D1Database[]} databases
 */
export function nextShardNumber(databases) {
  return Math.max(0, ...databases.map((d) => shardNumber(d.binding) ?? 0)) + 1
}

/**
 * The databases in the order they are migrated: the control database(s) first, then the shards by number.
 * @param {D1Database[]} databases
 */
export function inMigrationOrder(databases) {
  const control = databases.filter((d) => shardNumber(d.binding) === undefined)
  const shards = databases.filter((d) => shardNumber(d.binding) !== undefined)
  shards.sort((a, b) => /** @type {number} */ (shardNumber(a.binding)) - /** @type {number} */ (shardNumber(b.binding)))
  return [...control, ...shards]
}

/** The id a shard gets in wrangler.toml until it has a real one: 00000000-0000-4000-8000-<n on 12 digits>. */
export function placeholderId(/** @type {number} */ n) {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
}

/**
 * wrangler.toml with a `[[d1_databases]]` block for SHARD_<n> (database segue-shard-<n>) added right after
 * the last key line of the last existing block, so that comments and blank lines before the next table
 * stay with it. The block uses the last block's migrations_dir ("migrations" if it has none). Throws if
 * SHARD_<n> or segue-shard-<n> is already declared, or if the file declares no D1 database at all.
 * @param {string} tomlText
 * @param {number} n
 * @param {string} [databaseId] the database's id; the placeholder id if not given
 */
export function addShardBlock(tomlText, n, databaseId) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`a shard number is a positive integer, not ${n}`)
  const binding = `SHARD_${n}`
  const name = `segue-shard-${n}`
  const databases = d1Databases(tomlText)
  if (databases.some((d) => d.binding === binding)) throw new Error(`wrangler.toml already declares ${binding}`)
  if (databases.some((d) => d.database_name === name)) throw new Error(`wrangler.toml already declares a database named ${name}`)
  const last = databases.at(-1)
  if (!last) throw new Error('wrangler.toml declares no [[d1_databases]] block to add a shard after')
  const eol = tomlText.includes('\r\n') ? '\r\n' : '\n'
  const lines = tomlText.split(/\r?\n/)
  const block = [
    '',
    '[[d1_databases]]',
    `binding = "${binding}"`,
    `database_name = "${name}"`,
    `database_id = "${databaseId ?? placeholderId(n)}"`,
    `migrations_dir = "${last.migrations_dir ?? 'migrations'}"`,
  ]
  lines.splice(last.endLine + 1, 0, ...block)
  return lines.join(eol)
}

/**
 * The id of the database `wrangler d1 create` reports: the uuid on its database_id line (TOML or JSON
 * snippet), or else the only uuid in the output. Throws if there is none or several.
 * @param {string} output
 */
export function createdDatabaseId(output) {
  const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
  const onItsLine = new RegExp(`"?database_id"?\\s*[=:]\\s*["'](${uuid})["']`, 'i').exec(output)
  if (onItsLine) return onItsLine[1].toLowerCase()
  const all = [...new Set((output.match(new RegExp(uuid, 'gi')) ?? []).map((s) => s.toLowerCase()))]
  if (all.length === 1) return all[0]
  throw new Error(`cannot find the new database's id in the output of wrangler d1 create (${all.length} uuids found)`)
}
