/**
 * The D1 databases wrangler.toml declares, for the scripts that act on all of them (`npm run db:migrate`,
 * `npm run dev`) and the one that adds a data shard (`npm run shard:add`).
 *
 * This is not a TOML parser. It reads the top-level `[[d1_databases]]` blocks of a file written like
 * Segue's wrangler.toml, and nothing else:
 * - a block runs from its `[[d1_databases]]` line to the next table header (`[...]` or `[[...]]`);
 * - in a block, `key = value` lines, where value is a "basic" string without escapes, a 'literal' string,
 *   or a bare word such as true or a number (kept as text); comments after a value are allowed;
 * - blank lines and `#` comment lines anywhere.
 * Blocks under an environment (`[[env.<name>.d1_databases]]`) are not top-level and are skipped. What it
 * cannot read it refuses with an error naming the line, rather than guess: a multi-line string, an inline
 * table or array as a value, a value with escapes, or a `d1_databases = [...]` array written inline.
 * Outside those blocks it only looks for table headers, so a multi-line array or string elsewhere must not
 * have a line that looks like one. Of each block it reports binding, database_name, database_id and
 * migrations_dir.
 */

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
  const lines = tomlText.split(/\r?\n/)
  /** @type {D1Database[]} */
  const databases = []
  /** @type {Record<string, string> | null} */
  let block = null
  let blockLine = -1
  let lastKeyLine = -1
  let table = '' // the current table header's name; '' before the first header

  const close = () => {
    if (!block) return
    if (!block.binding || !block.database_name) {
      throw new Error(`wrangler.toml line ${blockLine + 1}: a [[d1_databases]] block needs binding and database_name`)
    }
    databases.push({
      binding: block.binding,
      database_name: block.database_name,
      ...(block.database_id !== undefined && { database_id: block.database_id }),
      ...(block.migrations_dir !== undefined && { migrations_dir: block.migrations_dir }),
      line: blockLine,
      endLine: lastKeyLine,
    })
    block = null
  }

  lines.forEach((raw, i) => {
    const text = raw.trim()
    if (text === '' || text.startsWith('#')) return
    const header = /^(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(#.*)?$/.exec(text)
    if (header) {
      close()
      table = header[2]
      if (header[1] === '[[' && header[3] === ']]' && table === 'd1_databases') {
        block = {}
        blockLine = i
        lastKeyLine = i
      }
      return
    }
    if (!block) {
      if (table === '' && /^d1_databases\s*=/.test(text)) {
        throw new Error(`wrangler.toml line ${i + 1}: d1_databases written as an inline array is not supported; use [[d1_databases]] blocks`)
      }
      return
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(text)
    if (!pair) throw new Error(`wrangler.toml line ${i + 1}: cannot read ${JSON.stringify(text)} in a [[d1_databases]] block`)
    const [, key, rest] = pair
    const value =
      /^"([^"\\]*)"\s*(#.*)?$/.exec(rest)?.[1] ??
      /^'([^']*)'\s*(#.*)?$/.exec(rest)?.[1] ??
      /^([A-Za-z0-9_.+:-]+)\s*(#.*)?$/.exec(rest)?.[1]
    if (value === undefined || /^("""|''')/.test(rest)) {
      throw new Error(`wrangler.toml line ${i + 1}: cannot read the value of ${key} (only single-line strings without escapes and bare words are supported)`)
    }
    if (key in block) throw new Error(`wrangler.toml line ${i + 1}: ${key} is set twice in one [[d1_databases]] block`)
    block[key] = value
    lastKeyLine = i
  })
  close()
  return databases
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
