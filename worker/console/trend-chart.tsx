/**
 * A segment's trend drawn as SVG on the server: its daily member count as a line, and the contacts that
 * entered (green, above the axis) and left (red, below) as bars. No script, no library; a table of the
 * same figures follows it for screen readers and for reading exact values.
 */
import { type TrendDay } from '../segments/trends'

const W = 720
const H = 220
const PAD = { left: 48, right: 12, top: 12, bottom: 28 }

export function TrendChart(p: { days: TrendDay[] }) {
  const days = p.days
  const innerW = W - PAD.left - PAD.right
  const innerH = H - PAD.top - PAD.bottom
  const top = Math.max(1, ...days.map((d) => d.members ?? 0))
  const moves = Math.max(1, ...days.map((d) => Math.max(d.entered, d.exited)))
  const x = (i: number) => PAD.left + (days.length === 1 ? innerW / 2 : (i * innerW) / (days.length - 1))
  const y = (members: number) => PAD.top + innerH - (members / top) * innerH
  // Entries and exits share the lower third: up from its middle for entries, down for exits.
  const axis = PAD.top + innerH - innerH / 6
  const bar = (n: number) => (n / moves) * (innerH / 6 - 2)
  const barW = Math.max(2, innerW / days.length - 2)
  const line = days
    .map((d, i) => (d.members === null ? null : `${x(i).toFixed(1)},${y(d.members).toFixed(1)}`))
    .reduce<string[]>((runs, point, i) => {
      // A day the scheduled pass did not count breaks the line.
      if (point === null) return runs
      if (i === 0 || days[i - 1].members === null || runs.length === 0) runs.push(point)
      else runs[runs.length - 1] += ` ${point}`
      return runs
    }, [])
  return (
    <svg class="trend" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Members over the last ${days.length} days: from ${days.find((d) => d.members !== null)?.members ?? 'no count'} to ${[...days].reverse().find((d) => d.members !== null)?.members ?? 'no count'}; ${days.reduce((n, d) => n + d.entered, 0)} entered and ${days.reduce((n, d) => n + d.exited, 0)} left.`}>
      <line x1={PAD.left} y1={PAD.top + innerH} x2={W - PAD.right} y2={PAD.top + innerH} class="axis" />
      <text x={PAD.left - 6} y={PAD.top + 10} class="tick" text-anchor="end">{top.toLocaleString('en')}</text>
      <text x={PAD.left - 6} y={PAD.top + innerH} class="tick" text-anchor="end">0</text>
      {days.map((d, i) => (
        <>
          {d.entered > 0 && <rect class="entered" x={x(i) - barW / 2} y={axis - bar(d.entered)} width={barW} height={bar(d.entered)} />}
          {d.exited > 0 && <rect class="exited" x={x(i) - barW / 2} y={axis} width={barW} height={bar(d.exited)} />}
        </>
      ))}
      {line.map((points) => (points.includes(' ') ? <polyline class="members" points={points} /> : <circle class="members" cx={points.split(',')[0]} cy={points.split(',')[1]} r="2.5" />))}
      <text x={PAD.left} y={H - 8} class="tick">{days[0]?.date}</text>
      <text x={W - PAD.right} y={H - 8} class="tick" text-anchor="end">{days[days.length - 1]?.date}</text>
    </svg>
  )
}
