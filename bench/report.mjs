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
  if (r.size.renderer) {
    out.push({ budget: `sdk.js (the tracking core) at most ${fmt(r.size.budget)} B gzipped`, value: `${fmt(r.size.gzip)} B`, met: r.size.gzip <= r.size.budget })
    out.push({ budget: `the renderer at most ${fmt(r.size.renderer.budget)} B gzipped`, value: `${fmt(r.size.renderer.gzip)} B`, met: r.size.renderer.gzip <= r.size.renderer.budget })
  } else {
    // Runs from before the script split in two: one file with the renderer.
    out.push({ budget: 'sdk.js at most 4,096 B gzipped', value: `${fmt(r.size.gzip)} B`, met: r.size.gzip <= 4096 })
  }
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

/** Where a section was measured apart from the rest (`npm run bench -- --only <section>`), a line saying so. */
function apart(r, name) {
  const a = r.apart?.[name]
  if (!a) return ''
  return `\n\nMeasured apart from the rest of this page (\`npm run bench -- --only ${name}\`${a.quick ? ' with `--quick`: smaller sizes' : ''}) on ${a.date}, ${a.machine.cpus} × ${a.machine.model}, Node.js ${a.machine.node}.`
}

const mb = (bytes) => `${fmt(bytes / 1e6, 1)} MB`

export function markdown(r) {
  const parts = []
  parts.push(`Run of ${r.date} on ${r.machine.cpus} × ${r.machine.model}, ${r.machine.memoryGiB} GiB, ${r.machine.os}, Node.js ${r.machine.node}${r.quick ? ' (quick run: smaller sizes, shorter loads)' : ''}.`)
  parts.push('### Budgets\n\n' + table(['Budget', 'Measured', 'Verdict'], budgets(r).map((b) => [b.budget, b.value, b.met ? '**met**' : '**missed**'])))
  parts.push('### 1. Script size\n\n' + table(['Script', 'gzip', 'brotli', 'Source'], [
    ...(r.size.renderer
      ? [
          ['Segue `sdk.js` (the tracking core: every page)', `${fmt(r.size.gzip)} B`, `${fmt(r.size.brotli)} B`, 'measured'],
          ['Segue renderer (only pages that get content)', `${fmt(r.size.renderer.gzip)} B`, `${fmt(r.size.renderer.brotli)} B`, 'measured'],
        ]
      : [['Segue `sdk.js` (with the content renderer)', `${fmt(r.size.gzip)} B`, `${fmt(r.size.brotli)} B`, 'measured']]),
    ...PEERS.map(([name, size]) => [name, size, '', 'as published']),
  ]) + apart(r, 'size'))
  if (r.edge) {
    const row = (label, x) => [label, fmt(x.rps), `${fmt(x.p50, 1)} ms`, `${fmt(x.p99, 1)} ms`, fmt(x.errors)]
    const rows = [row('POST /v1/events, Worker alone', r.edge.events), row('GET /health (bare), Worker alone', r.edge.bare)]
    if (r.edgeWithConsumer) rows.push(row('POST /v1/events, consumer writing D1 meanwhile', r.edgeWithConsumer.events), row('GET /health (bare), same run', r.edgeWithConsumer.bare))
    parts.push('### 2. Decision throughput at the edge runtime\n\n' + table(['Endpoint', 'Requests/s', 'p50', 'p99', 'Errors'], rows) +
      `\n\nRatio, Worker alone: **${fmt(r.edge.ratio, 2)}**${r.edgeWithConsumer ? `; with the consumer in the same workerd: ${fmt(r.edgeWithConsumer.ratio, 2)}` : ''}. Returning contacts (${r.edge.contacts}) sending their id and state token, 100 segments, 20 workflows; median of ${r.edge.events.rounds.length} alternating round(s) of ${r.edge.seconds} s at ${r.edge.connections} connections.` + apart(r, 'edge'))
  }
  parts.push('### 3. Evaluation cost (pure decision, one page visit)\n\nEvery workflow shows a popup or a slide-in; every other one first puts the contact in an A/B test, every third runs on a weekly schedule read in the site\'s time zone, and workflows after the first that shows interruptive content are undone (priority).\n\n' + table(['Segments', 'Workflows', 'Mean', 'p50', 'p99', '± (rme)', 'Samples'], r.decision.map((d) => [fmt(d.segments), fmt(d.workflows), `${fmt(d.meanUs, 1)} µs`, `${fmt(d.p50Us, 1)} µs`, `${fmt(d.p99Us, 1)} µs`, `${fmt(d.rme, 1)} %`, fmt(d.samples)])) + apart(r, 'decision'))
  parts.push('### 4. Backfill on local D1\n\n' + table(['Contacts', 'Events', 'Load', 'Scan contacts', 'Scan events', 'Field segment', 'Members', 'Activity segment', 'Members', 'Contacts/s (activity)', 'Ratio to scans'], r.backfill.map((b) => [
    fmt(b.contacts), fmt(b.events), `${fmt(b.loadSeconds, 1)} s`, `${fmt(b.scanContactsMs)} ms`, `${fmt(b.scanEventsMs)} ms`, `${fmt(b.fieldBackfillMs)} ms`, fmt(b.fieldMembers), `${fmt(b.activityBackfillMs)} ms`, fmt(b.activityMembers),
    fmt(b.contacts / (b.activityBackfillMs / 1000)), `${fmt(b.activityBackfillMs / (b.scanContactsMs + b.scanEventsMs), 2)}× (field ${fmt(b.fieldBackfillMs / b.scanContactsMs, 2)}×)`,
  ])) + '\n\nReference: Mautic publishes about 40 minutes to rebuild one segment at 260,000 contacts.' + apart(r, 'backfill'))
  parts.push('### 5. Worker bundle\n\n' + table(['Build', 'Raw', 'gzip'], [
    ['`wrangler deploy --dry-run --outdir`', `${fmt(r.bundle.raw / 1024)} KiB`, `${fmt(r.bundle.gzip / 1024)} KiB`],
    ['the same with `--minify`', `${fmt(r.bundle.minRaw / 1024)} KiB`, `${fmt(r.bundle.minGzip / 1024)} KiB`],
  ]) + apart(r, 'bundle'))
  parts.push('### 6. Hot-path I/O per decision\n\n' + table(['Request', 'KV reads', 'KV writes', 'D1 queries'], r.hotPath.map((h) => [h.scenario, fmt(h.kvReads), fmt(h.kvWrites), fmt(h.d1Queries)])) + apart(r, 'hotpath'))
  if (r.writeSide) {
    const days = (w, perDay) => fmt((10 * 1024 ** 3) / (w.bytesPerVisit * perDay))
    parts.push('### 7. The write side: the queue consumer writing visits\n\n' + table(['Contacts', 'Visits', 'SQL a visit', 'Rows read', 'Rows written', 'D1 calls', 'KV ops', 'Visits per SQL second', 'D1 bytes a visit', 'Days in 10 GB at 100,000 visits a day', 'at 1,000,000 a day'], r.writeSide.map((w) => [
      fmt(w.contacts), fmt(w.visits), `${fmt(w.sqlMs, 3)} ms`, fmt(w.rowsRead, 1), fmt(w.rowsWritten, 1), fmt(w.d1Calls, 2), fmt(w.kvOps, 1), fmt(w.visitsPerSqlSecond), fmt(w.bytesPerVisit), days(w, 100_000), days(w, 1_000_000),
    ])) + '\n\nBatches of 100 visits, each from another returning contact, through the real consumer; per visit, as D1 accounts for its queries. The default retention keeps 396 days.' + apart(r, 'backfill'))
  }
  if (r.shards) {
    const sh = r.shards
    const share = (x) => `${fmt(x * 100)} %`
    parts.push(`### 8. Shards: the same ${fmt(sh.contacts)} contacts on 1, 2 and 4 data shards\n\n` + table(
      ['Shards', 'SQL a visit (summed)', 'of it, control DB', "of it, busiest shard's", 'D1 calls a visit', 'Rows read a visit', "Largest shard's share of writes", 'Visits per shard', 'Members counted', 'Backfill SQL (summed)', 'slowest shard', 'Storage per shard', 'Bytes a contact'],
      sh.rows.map((x) => {
        const total = x.bytesPerShard.reduce((n, b) => n + b, 0)
        return [
          fmt(x.shards), `${fmt(x.sqlMs, 3)} ms (${fmt(Math.min(...x.sqlMsPasses), 3)}–${fmt(Math.max(...x.sqlMsPasses), 3)})`, `${fmt(x.controlSqlMs, 3)} ms`, `${fmt(Math.max(...x.sqlMsPerShard) / x.visits, 3)} ms`, fmt(x.d1Calls, 2), fmt(x.rowsRead, 1), share(x.largestWriteShare), x.visitsPerShard.map((v) => fmt(v)).join(' · '),
          fmt(x.membersCounted), `${fmt(x.backfillSqlMs)} ms`, `${fmt(x.backfillSlowestShardMs)} ms`, x.bytesPerShard.map(mb).join(' · '), fmt(total / x.contacts),
        ]
      }),
    ) +
      `\n\nOne site placed over 1, 2 and 4 local D1 databases (\`SHARD_1\` … \`SHARD_4\`, declared for the bench alone, beside the control database \`DB\`), each contact with its ten page visits on the shard the hash of its id picks (\`shardIndex\`). ${fmt(sh.rows[0].visits)} visits from distinct returning contacts written by the real consumer in batches of 100, after a warm-up visit each, in ${fmt(sh.rows[0].sqlMsPasses.length)} passes: per visit as D1 accounts for its queries, summed over every database, in the pass with the least SQL time (all passes' range in brackets); the busiest shard's part is its own SQL time in that pass over all the visits, and the share of writes the rows that pass wrote on it. The activity segment of section 4 is filled over every shard (\`refreshStatements\`, one shard after another; each shard's quickest of three fills from empty) and its members counted with \`withCounts\` (one query a shard, summed). Storage is what D1 reports each shard holds after the load and the visits. The three placements are loaded side by side and every measurement takes its turn on each before it is repeated, so that what else the machine does falls on all three alike: SQL time is time spent in the database, which another process taking the CPU lengthens.` +
      '\n\n**Local workerd runs every database on one thread**, so wall time says nothing about shards working side by side: compare summed SQL time (the work, wherever it runs) and the load on each shard. On Cloudflare each D1 database runs its queries apart, one at a time; what a site can write, and how long a backfill takes, then follow the busiest shard, not the sum.' +
      apart(r, 'shards'))
  }
  return parts.join('\n\n')
}

/** A plain-text summary for the terminal. */
export function terminal(r) {
  const rows = budgets(r).map((b) => `${b.met ? 'MET   ' : 'MISSED'}  ${b.budget}: ${b.value}`)
  return ['Budgets', ...rows].join('\n')
}
