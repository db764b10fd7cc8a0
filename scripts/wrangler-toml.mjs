/**
 * What the scripts read of wrangler.toml, and how `npm run deploy` writes its copy. This is not a TOML
 * parser. It reads the tables of one header (`[[d1_databases]]`, `[[kv_namespaces]]`, `[vars]`...) of a
 * file written like Segue's wrangler.toml, and nothing else:
 * - a table runs from its header line to the next table header (`[...]` or `[[...]]`);
 * - in it, `key = value` lines, where value is a "basic" string without escapes, a 'literal' string, or a
 *   bare word such as true or a number (kept as text); comments after a value are allowed;
 * - blank lines and `#` comment lines anywhere.
 * Tables under an environment (`[[env.<name>.d1_databases]]`) have another header and are skipped. What it
 * cannot read in a table it was asked for it refuses with an error naming the line, rather than guess: a
 * multi-line string, an inline table or array as a value, a value with escapes, or the tables written as
 * an inline array (`d1_databases = [...]`). Outside those tables it only looks for table headers, so a
 * multi-line array or string elsewhere must not have a line that looks like one.
 */

/**
 * @typedef {{ values: Record<string, string>, keyLines: Record<string, number>, line: number, endLine: number }} TomlTable
 * line: the 0-based index of the table's header line; endLine: of its last key line (the header's if none);
 * keyLines: the line of each key.
 */

/**
 * The tables of one header, in the order the file declares them.
 * @param {string} tomlText
 * @param {string} header `[[name]]` for an array of tables, `[name]` for one table
 * @returns {TomlTable[]}
 *
 * @example
 * tomlTables(text, '[[d1_databases]]')[0].values.database_name // 'segue'
 */
export function tomlTables(tomlText, header) {
  const wanted = /^(\[\[?)([^\]]+)(\]\]?)$/.exec(header)
  if (!wanted) throw new Error(`not a table header: ${header}`)
  const [, open, name] = wanted
  /** @type {TomlTable[]} */
  const tables = []
  /** @type {TomlTable | null} */
  let table = null
  let current = '' // the current table header's name; '' before the first header

  tomlText.split(/\r?\n/).forEach((raw, i) => {
    const text = raw.trim()
    if (text === '' || text.startsWith('#')) return
    const found = /^(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(#.*)?$/.exec(text)
    if (found) {
      current = found[2]
      const same = found[1] === open && found[3].length === open.length && current === name
      table = same ? { values: {}, keyLines: {}, line: i, endLine: i } : null
      if (table) tables.push(table)
      return
    }
    if (!table) {
      if (current === '' && open === '[[' && new RegExp(`^${name.replace(/\./g, '\\.')}\\s*=`).test(text)) {
        throw new Error(`wrangler.toml line ${i + 1}: ${name} written as an inline array is not supported; use ${header} blocks`)
      }
      return
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(text)
    if (!pair) throw new Error(`wrangler.toml line ${i + 1}: cannot read ${JSON.stringify(text)} in a ${header} block`)
    const [, key, rest] = pair
    const value =
      /^"([^"\\]*)"\s*(#.*)?$/.exec(rest)?.[1] ??
      /^'([^']*)'\s*(#.*)?$/.exec(rest)?.[1] ??
      /^([A-Za-z0-9_.+:-]+)\s*(#.*)?$/.exec(rest)?.[1]
    if (value === undefined || /^("""|''')/.test(rest)) {
      throw new Error(`wrangler.toml line ${i + 1}: cannot read the value of ${key} (only single-line strings without escapes and bare words are supported)`)
    }
    if (key in table.values) throw new Error(`wrangler.toml line ${i + 1}: ${key} is set twice in one ${header} block`)
    table.values[key] = value
    table.keyLines[key] = i
    table.endLine = i
  })
  return tables
}

/**
 * A string key at the top of the file, before any table (`name = "segue"`), or undefined.
 * @param {string} tomlText
 * @param {string} key
 */
export function topLevelString(tomlText, key) {
  for (const raw of tomlText.split(/\r?\n/)) {
    const text = raw.trim()
    if (/^\[/.test(text)) return undefined
    const m = new RegExp(`^${key}\\s*=\\s*(?:"([^"\\\\]*)"|'([^']*)')\\s*(#.*)?$`).exec(text)
    if (m) return m[1] ?? m[2]
  }
  return undefined
}

/**
 * @typedef {{ table: TomlTable, key: string, value: string }} TomlEdit
 */

/**
 * The file with these keys set to these string values, each in its table: a key's line is rewritten
 * (`key = "value"`, its indentation kept), a key the table lacks is added after its last key line. Every
 * other line, comments included, stays as it was.
 * @param {string} tomlText
 * @param {TomlEdit[]} edits
 */
export function withValues(tomlText, edits) {
  const eol = tomlText.includes('\r\n') ? '\r\n' : '\n'
  const lines = tomlText.split(/\r?\n/)
  const line = (/** @type {TomlEdit} */ e) => `${e.key} = ${tomlString(e.value)}`
  const rewrites = edits.filter((e) => e.key in e.table.keyLines)
  const additions = edits.filter((e) => !(e.key in e.table.keyLines))
  for (const e of rewrites) {
    const at = e.table.keyLines[e.key]
    lines[at] = `${/^\s*/.exec(lines[at])?.[0] ?? ''}${line(e)}`
  }
  // From the last to the first, so that an insertion moves none of the lines still to come, and keys added
  // to one table keep the order they were given in.
  for (const e of additions.reverse().sort((a, b) => b.table.endLine - a.table.endLine)) lines.splice(e.table.endLine + 1, 0, line(e))
  return lines.join(eol)
}

/** A TOML basic string: every escape JSON writes in a string (\", \\, \n, \uXXXX...) is one TOML has too. */
const tomlString = (/** @type {string} */ value) => JSON.stringify(value)
