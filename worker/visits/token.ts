/**
 * The state token: a contact's snapshot, compressed and sealed with AES-GCM under a Worker secret, bound
 * to its site and contact (additional data), so a token is useless anywhere else. The browser keeps it
 * and sends it back; the Worker trusts only what it can open.
 *
 * Format: `1.` + base64url(12-byte IV ‖ ciphertext). The leading number is the format version. The
 * plaintext is a flag byte and the snapshot's JSON, deflated (flag 1) only when it is large: compressing
 * a small snapshot costs more time than the bytes it saves.
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
/** Snapshots whose JSON is longer than this are deflated before sealing. */
const COMPRESS_OVER_BYTES = 2048
const VERSION = '1.'

const additionalData = (siteId: string, contactId: string) => new TextEncoder().encode(`${siteId}\u0000${contactId}`)

/** Seals a snapshot; undefined when the token would be too long to carry. */
export async function sealState(secret: string, siteId: string, snap: Snapshot): Promise<string | undefined> {
  const json = new TextEncoder().encode(JSON.stringify(snap))
  const body = json.length > COMPRESS_OVER_BYTES ? await deflate(json) : json
  const plain = new Uint8Array(1 + body.length)
  plain[0] = json.length > COMPRESS_OVER_BYTES ? 1 : 0
  plain.set(body, 1)
  const token = VERSION + toBase64Url(await seal('segue-state-token', secret, plain, additionalData(siteId, snap.id)))
  return token.length <= MAX_TOKEN_CHARS ? token : undefined
}

/**
 * Opens a token for this site and contact. Anything else — forged, truncated, from another site or
 * contact, an unknown format, older than TOKEN_MAX_AGE_MS — gives undefined, never an error.
 */
export async function openState(secret: string, siteId: string, contactId: string, token: unknown, now: number): Promise<Snapshot | undefined> {
  if (typeof token !== 'string' || !token.startsWith(VERSION) || token.length > MAX_TOKEN_CHARS) return undefined
  try {
    const opened = await unseal('segue-state-token', secret, fromBase64Url(token.slice(VERSION.length)), additionalData(siteId, contactId))
    if (!opened) return undefined
    const json = opened[0] === 1 ? await inflate(opened.subarray(1)) : opened.subarray(1)
    const snap = JSON.parse(new TextDecoder().decode(json)) as Snapshot
    return snap && snap.id === contactId && typeof snap.v === 'number' && now - snap.v <= TOKEN_MAX_AGE_MS ? snap : undefined
  } catch {
    return undefined
  }
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
