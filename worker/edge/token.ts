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
import { type Snapshot } from './snapshot'

/** Tokens longer than this are not sent; the next request falls back to the KV snapshot. */
export const MAX_TOKEN_CHARS = 4096
/** Snapshots whose JSON is longer than this are deflated before sealing. */
const COMPRESS_OVER_BYTES = 2048
const VERSION = '1.'

const keys = new Map<string, Promise<CryptoKey>>()

function keyFor(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret)
  if (!key) {
    key = crypto.subtle
      .digest('SHA-256', new TextEncoder().encode(`segue-state-token:${secret}`))
      .then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']))
    keys.set(secret, key)
  }
  return key
}

const additionalData = (siteId: string, contactId: string) => new TextEncoder().encode(`${siteId}\u0000${contactId}`)

/** Seals a snapshot; undefined when the token would be too long to carry. */
export async function sealState(secret: string, siteId: string, snap: Snapshot): Promise<string | undefined> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const json = new TextEncoder().encode(JSON.stringify(snap))
  const body = json.length > COMPRESS_OVER_BYTES ? await deflate(json) : json
  const plain = new Uint8Array(1 + body.length)
  plain[0] = json.length > COMPRESS_OVER_BYTES ? 1 : 0
  plain.set(body, 1)
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(siteId, snap.id) }, await keyFor(secret), plain)
  const bytes = new Uint8Array(12 + sealed.byteLength)
  bytes.set(iv)
  bytes.set(new Uint8Array(sealed), 12)
  const token = VERSION + toBase64Url(bytes)
  return token.length <= MAX_TOKEN_CHARS ? token : undefined
}

/**
 * Opens a token for this site and contact. Anything else — forged, truncated, from another site or
 * contact, an unknown format — gives undefined, never an error.
 */
export async function openState(secret: string, siteId: string, contactId: string, token: unknown): Promise<Snapshot | undefined> {
  if (typeof token !== 'string' || !token.startsWith(VERSION) || token.length > MAX_TOKEN_CHARS) return undefined
  try {
    const bytes = fromBase64Url(token.slice(VERSION.length))
    if (bytes.length < 12 + 16) return undefined
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.slice(0, 12), additionalData: additionalData(siteId, contactId) },
      await keyFor(secret),
      bytes.slice(12),
    )
    const opened = new Uint8Array(plain)
    const json = opened[0] === 1 ? await inflate(opened.subarray(1)) : opened.subarray(1)
    const snap = JSON.parse(new TextDecoder().decode(json)) as Snapshot
    return snap && snap.id === contactId && typeof snap.v === 'number' ? snap : undefined
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
