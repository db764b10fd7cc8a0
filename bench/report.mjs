/**
 * Turns a benchmark run into the budgets' verdicts and the Markdown tables of docs/BENCHMARKS.md.
 */

export const PEERS = [
  ['Plausible', 'about 1 KB'],
  ['Umami', '2.4 KB'],
  ['Fathom', '3.0 KB'],
  ['GrowthBook', '6.9 KB to 15.6 KB'],
  ['Segment analytics.js', '31 KB'],
  ['LaunchDarkly', '37 KB'],
  ['PostHog', '56 KB'],
]

const fmt = (n, digits = 0) => (n === undefined || n === null || Number.isNaN(n) ? '—' : Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }))

/** Each budget of DESIGN.md with the measured value and whether it is met. */
export function budgets(r) {
  const out = []
  out.push({ budget: 'sdk.js at most 4,096 B gzipped', value: `${fmt(r.size.gzip)} B`, met: r.size.gzip <= 4096 })
  if (r.edge) out.push({ budget: '/v1/events throughput at least 0.9 of a bare endpoint', value: fmt(r.edge.ratio, 2), met: r.edge.ratio >= 0.9 })
  const d = r.decision.find((x) => x.segments === 100 && x.workflows === 20)
  if (d) out.push({ budget: 'decision under 1 ms at 100 segments / 20 workflows', value: `${fmt(d.meanUs, 1)} µs`, met: d.meanUs < 1000 })
  const b = r.backfill.find((x) => x.contacts === 100_000) ?? r.backfill.at(-1)
  if (b) {
    const ratio = b.activityBackfillMs / (b.scanContactsMs + b.scanEventsMs)
    out.push({ budget: `backfill over ${fmt(b.contacts)} contacts in seconds, not minutes`, value: `${fmt(b.activityBackfillMs / 1000, 2)} s`, met: b.activityBackfillMs < 60_000 })
    out.push({ budget: 'activity segment backfill within 3× a plain scan of the same rows', value: `${fmt(ratio, 2)}×`, met: ratio <= 3 })
    const fieldRatio = b.fieldBackfillMs / b.scanContactsMs
    out.push({ budget: 'field segment backfill within 3× a plain scan of the same rows', value: `${fmt(fieldRatio, 2)}×`, met: fieldRatio <= 3 })
  }
  const w = r.writeSide
  if (w && w.length > 1) {
    const ratio = w.at(-1).sqlMs / w[0].sqlMs
    out.push({ budget: `a visit's write at ${fmt(w.at(-1).contacts)} contacts within 1.5× its cost at ${fmt(w[0].contacts)}`, value: `${fmt(ratio, 2)}× (${fmt(w.at(-1).sqlMs, 3)} ms of SQL, ${fmt(w.at(-1).rowsRead)} rows read)`, met: ratio <= 1.5 })
  }
  const ret = r.hotPath.find((x) => x.scenario.startsWith('returning contact (KV'))
  if (ret) out.push({ budget: 'returning contact: at most one KV read, no D1 query', value: `${ret.kvReads} KV read, ${ret.d1Queries} D1`, met: ret.kvReads <= 1 && ret.d1Queries === 0 })
  return out
}

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map((h) => (/^[#≤≥0-9 a-z]*$/i.test(h) ? '---' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

export function markdown(r) {
  const parts = []
  parts.push(`Run of ${r.date} on ${r.machine.cpus} × ${r.machine.model}, ${r.machine.memoryGiB} GiB, ${r.machine.os}, Node.js ${r.machine.node}${r.quick ? ' (quick run: smaller sizes, shorter loads)' : ''}.`)
  parts.push('### Budgets\n\n' + table(['Budget', 'Measured', 'Verdict'], budgets(r).map((b) => [b.budget, b.value, b.met ? '**met**' : '**missed**'])))
  parts.push('### 1. Script size\n\n' + table(['Script', 'gzip', 'brotli', 'Source'], [
    ['Segue `sdk.js` (with the content renderer)', `${fmt(r.size.gzip)} B`, `${fmt(r.size.brotli)} B`, 'measured'],
    ...PEERS.map(([name, size]) => [name, size, '', 'as published']),
  ]))
  if (r.edge) {
    const row = (label, x) => [label, fmt(x.rps), `${fmt(x.p50, 1)} ms`, `${fmt(x.p99, 1)} ms`, fmt(x.errors)]
    const rows = [row('POST /v1/events, Worker alone', r.edge.events), row('GET /health (bare), Worker alone', r.edge.bare)]
    if (r.edgeWithConsumer) rows.push(row('POST /v1/events, consumer writing D1 meanwhile', r.edgeWithConsumer.events), row('GET /health (bare), same run', r.edgeWithConsumer.bare))
    parts.push('### 2. Decision throughput at the edge runtime\n\n' + table(['Endpoint', 'Requests/s', 'p50', 'p99', 'Errors'], rows) +
      `\n\nRatio, Worker alone: **${fmt(r.edge.ratio, 2)}**${r.edgeWithConsumer ? `; with the consumer in the same workerd: ${fmt(r.edgeWithConsumer.ratio, 2)}` : ''}. Returning contacts (${r.edge.contacts}) sending their id and state token, 100 segments, 20 workflows; median of ${r.edge.events.rounds.length} alternating round(s) of ${r.edge.seconds} s at ${r.edge.connections} connections.`)
  }
  parts.push('### 3. Evaluation cost (pure decision, one page visit)\n\n' + table(['Segments', 'Workflows', 'Mean', 'p50', 'p99', '± (rme)', 'Samples'], r.decision.map((d) => [fmt(d.segments), fmt(d.workflows), `${fmt(d.meanUs, 1)} µs`, `${fmt(d.p50Us, 1)} µs`, `${fmt(d.p99Us, 1)} µs`, `${fmt(d.rme, 1)} %`, fmt(d.samples)])))
  parts.push('### 4. Backfill on local D1\n\n' + table(['Contacts', 'Events', 'Load', 'Scan contacts', 'Scan events', 'Field segment', 'Members', 'Activity segment', 'Members', 'Contacts/s (activity)', 'Ratio to scans'], r.backfill.map((b) => [
    fmt(b.contacts), fmt(b.events), `${fmt(b.loadSeconds, 1)} s`, `${fmt(b.scanContactsMs)} ms`, `${fmt(b.scanEventsMs)} ms`, `${fmt(b.fieldBackfillMs)} ms`, fmt(b.fieldMembers), `${fmt(b.activityBackfillMs)} ms`, fmt(b.activityMembers),
    fmt(b.contacts / (b.activityBackfillMs / 1000)), `${fmt(b.activityBackfillMs / (b.scanContactsMs + b.scanEventsMs), 2)}× (field ${fmt(b.fieldBackfillMs / b.scanContactsMs, 2)}×)`,
  ])) + '\n\nReference: Mautic publishes about 40 minutes to rebuild one segment at 260,000 contacts.')
  parts.push('### 5. Worker bundle\n\n' + table(['Build', 'Raw', 'gzip'], [
    ['`wrangler deploy --dry-run --outdir`', `${fmt(r.bundle.raw / 1024)} KiB`, `${fmt(r.bundle.gzip / 1024)} KiB`],
    ['the same with `--minify`', `${fmt(r.bundle.minRaw / 1024)} KiB`, `${fmt(r.bundle.minGzip / 1024)} KiB`],
  ]))
  parts.push('### 6. Hot-path I/O per decision\n\n' + table(['Request', 'KV reads', 'KV writes', 'D1 queries'], r.hotPath.map((h) => [h.scenario, fmt(h.kvReads), fmt(h.kvWrites), fmt(h.d1Queries)])))
  if (r.writeSide) {
    const days = (w, perDay) => fmt((10 * 1024 ** 3) / (w.bytesPerVisit * perDay))
    parts.push('### 7. The write side: the queue consumer writing visits\n\n' + table(['Contacts', 'Visits', 'SQL a visit', 'Rows read', 'Rows written', 'D1 calls', 'KV ops', 'Visits per SQL second', 'D1 bytes a visit', 'Days in 10 GB at 100,000 visits a day', 'at 1,000,000 a day'], r.writeSide.map((w) => [
      fmt(w.contacts), fmt(w.visits), `${fmt(w.sqlMs, 3)} ms`, fmt(w.rowsRead, 1), fmt(w.rowsWritten, 1), fmt(w.d1Calls, 2), fmt(w.kvOps, 1), fmt(w.visitsPerSqlSecond), fmt(w.bytesPerVisit), days(w, 100_000), days(w, 1_000_000),
    ])) + '\n\nBatches of 100 visits, each from another returning contact, through the real consumer; per visit, as D1 accounts for its queries. The default retention keeps 396 days.')
  }
  return parts.join('\n\n')
}

/** A plain-text summary for the terminal. */
export function terminal(r) {
  const rows = budgets(r).map((b) => `${b.met ? 'MET   ' : 'MISSED'}  ${b.budget}: ${b.value}`)
  return ['Budgets', ...rows].join('\n')
}
