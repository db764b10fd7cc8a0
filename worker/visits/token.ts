/**
 * The state token: a contact's snapshot, compressed and sealed with AES-GCM under a Worker secret, bound
 * to its site and contact (additional data), so a token is useless anywhere else. The browser keeps it
 * and sends it back; the Worker trusts only what it can open.
 *
 * Besides the snapshot, a token carries when its state was last checked against the contact's stored
 * snapshot (KV, or D1): while that is under TOKEN_FRESH_MS ago the Worker decides on the token alone.
 *
 * Format: `1.` + base64url(12-byte IV ‖ ciphertext). The leading number is the format version. The
 * plaintext is a flag byte, then (flag 2) the check time as a float64, then the snapshot's JSON, deflated
 * (flag 1) only when it is large: compressing a small snapshot costs more time than the bytes it saves.
 * Tokens sealed before the check time existed carry no flag 2 and are never fresh.
 */
import { fromBase64Url, toBase64Url } from '../lib/base64url'
import { seal, unseal } from '../lib/seal'
import { type Snapshot } from './snapshot'

/** Tokens longer than this are not sent; the next request falls back to the KV snapshot. */
export const MAX_TOKEN_CHARS = 4096
/**
 * A token older than this is not trusted (its version is its time). Tokens only bridge the moments KV
 * and D1 lag behind a browser; the age limit is what lets an erased contact's token expire.
 */
export const TOKEN_MAX_AGE_MS = 7 * 24 * 60 * 60_000
/**
 * A token whose state was checked against the stored snapshot less than this long ago is decided on
 * alone, without reading KV. Within a browsing session the token is the newest state by construction;
 * what KV could add is an admin's change to the contact (an edit, a merge, an erasure), which therefore
 * reaches a visitor in the middle of a session within this window rather than on their next request.
 * The check time is carried over from token to token, so a session that never pauses still reads KV
 * once a window. 30 s: a session's requests come seconds apart, so most of them skip the read, and the
 * delay added to an admin's change is of the order of the one KV already has in showing a write at
 * another location (up to 60 s).
 */
export const TOKEN_FRESH_MS = 30_000
/**
 * How far ahead of this location's clock a token's times may be and it still count as fresh. Locations'
 * clocks agree to well within this; a time further ahead (a skewed clock where the token was sealed) must
 * not stretch the window, so that token reads KV.
 */
const FRESH_CLOCK_SLACK_MS = 2_000
/** Snapshots whose JSON is longer than this are deflated before sealing. */
const COMPRESS_OVER_BYTES = 2048
const VERSION = '1.'
const DEFLATED = 1
const CHECKED = 2

/** A token opened: the snapshot it carries, and when that state was last checked against KV (if known). */
export interface OpenedState {
  snapshot: Snapshot
  checkedAt?: number
}

const additionalData = (siteId: string, contactId: string) => new TextEncoder().encode(`${siteId}\u0000${contactId}`)

/**
 * Seals a snapshot with the time its state was last checked against the stored one; undefined when the
 * token would be too long to carry.
 */
export async function sealState(secret: string, siteId: string, snap: Snapshot, checkedAt: number): Promise<string | undefined> {
  const json = new TextEncoder().encode(JSON.stringify(snap))
  const deflated = json.length > COMPRESS_OVER_BYTES
  const body = deflated ? await deflate(json) : json
  const plain = new Uint8Array(9 + body.length)
  plain[0] = CHECKED | (deflated ? DEFLATED : 0)
  new DataView(plain.buffer).setFloat64(1, checkedAt)
  plain.set(body, 9)
  const token = VERSION + toBase64Url(await seal('segue-state-token', secret, plain, additionalData(siteId, snap.id)))
  return token.length <= MAX_TOKEN_CHARS ? token : undefined
}

/**
 * Opens a token for this site and contact. Anything else — forged, truncated, from another site or
 * contact, an unknown format, older than TOKEN_MAX_AGE_MS — gives undefined, never an error.
 */
export async function openState(secret: string, siteId: string, contactId: string, token: unknown, now: number): Promise<OpenedState | undefined> {
  if (typeof token !== 'string' || !token.startsWith(VERSION) || token.length > MAX_TOKEN_CHARS) return undefined
  try {
    const opened = await unseal('segue-state-token', secret, fromBase64Url(token.slice(VERSION.length)), additionalData(siteId, contactId))
    if (!opened) return undefined
    const flags = opened[0]
    const checkedAt = flags & CHECKED ? new DataView(opened.buffer, opened.byteOffset).getFloat64(1) : undefined
    const body = opened.subarray(flags & CHECKED ? 9 : 1)
    const json = flags & DEFLATED ? await inflate(body) : body
    const snap = JSON.parse(new TextDecoder().decode(json)) as Snapshot
    return snap && snap.id === contactId && typeof snap.v === 'number' && now - snap.v <= TOKEN_MAX_AGE_MS ? { snapshot: snap, checkedAt } : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether an opened token may be decided on without reading KV: its state was checked against the stored
 * snapshot under TOKEN_FRESH_MS ago, and neither that check nor the state's version is dated ahead of this
 * location's clock by more than a little. A version is the time its state was made (max(now, previous + 1)
 * where it was decided), so only a clock running ahead somewhere puts it in the future.
 *
 * @example isFresh({ snapshot, checkedAt: now - 5_000 }, now) // true, if snapshot.v <= now + 2 s
 */
export function isFresh(opened: OpenedState, now: number): opened is Required<OpenedState> {
  const { checkedAt } = opened
  return checkedAt !== undefined && now - checkedAt < TOKEN_FRESH_MS && checkedAt <= now + FRESH_CLOCK_SLACK_MS && opened.snapshot.v <= now + FRESH_CLOCK_SLACK_MS
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  return pipe(data, new CompressionStream('deflate-raw'))
}

async function inflate(data: Uint8Array): Promise<Uint8Array> {
  return pipe(data, new DecompressionStream('deflate-raw'))
}

async function pipe(data: Uint8Array, transform: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(transform)
  return new Uint8Array(await new Response(stream).arrayBuffer())
}
