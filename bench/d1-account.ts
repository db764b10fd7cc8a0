/**
 * What D1 says queries cost, added up by a wrapped binding: the benchmarks' measure of SQL time, rows and
 * calls, wherever the queries run.
 */

/** What a wrapped D1 binding has counted. `sizeAfter` is the database's size after its last query. */
export interface D1Account {
  sqlMs: number
  rowsRead: number
  rowsWritten: number
  d1Calls: number
  sizeAfter?: number
}

/** A D1 binding that adds up what D1 says each query cost; `first` runs as `all` to see its account. */
export function accountedD1(db: D1Database, account: D1Account): D1Database {
  const note = (meta: D1Meta & { size_after?: number }) => {
    account.sqlMs += meta.duration ?? 0
    account.rowsRead += meta.rows_read ?? 0
    account.rowsWritten += meta.rows_written ?? 0
    if (meta.size_after) account.sizeAfter = meta.size_after
  }
  const real = new WeakMap<object, D1PreparedStatement>()
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === 'bind') return (...args: unknown[]) => wrap(target.bind(...args))
        if (prop === 'first') {
          return async (column?: string) => {
            account.d1Calls++
            const r = await target.all<Record<string, unknown>>()
            note(r.meta)
            const row = r.results[0]
            return row === undefined ? null : column ? row[column] : row
          }
        }
        if (prop === 'all' || prop === 'run') {
          return async () => {
            account.d1Calls++
            const r = await target.all()
            note(r.meta)
            return r
          }
        }
        const value = Reflect.get(target, prop)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    real.set(proxy, statement)
    return proxy
  }
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'prepare') return (sql: string) => wrap(target.prepare(sql))
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          account.d1Calls++
          const results = await target.batch(statements.map((s) => real.get(s) ?? s))
          for (const r of results) note(r.meta)
          return results
        }
      }
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

