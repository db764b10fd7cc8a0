/**
 * AES-GCM sealing with a key derived from a Worker secret and a purpose, so that what is sealed for one
 * purpose (the state token, the browser id) never opens as another. Sealed bytes are the 12-byte IV
 * followed by the ciphertext and its 16-byte tag.
 */

export type SealPurpose = 'segue-state-token' | 'segue-browser-id'

const keys = new Map<string, Promise<CryptoKey>>()

function keyFor(purpose: SealPurpose, secret: string): Promise<CryptoKey> {
  const name = `${purpose}:${secret}`
  let key = keys.get(name)
  if (!key) {
    key = crypto.subtle
      .digest('SHA-256', new TextEncoder().encode(name))
      .then((raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']))
    keys.set(name, key)
  }
  return key
}

/** Seals `plain`, bound to `additionalData`: it opens only with the same secret, purpose and data. */
export async function seal(purpose: SealPurpose, secret: string, plain: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, await keyFor(purpose, secret), plain)
  const bytes = new Uint8Array(12 + sealed.byteLength)
  bytes.set(iv)
  bytes.set(new Uint8Array(sealed), 12)
  return bytes
}

/** Opens what `seal` made; undefined for anything else (forged, truncated, other purpose or data). */
export async function unseal(purpose: SealPurpose, secret: string, bytes: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array | undefined> {
  if (bytes.length < 12 + 16) return undefined
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.slice(0, 12), additionalData }, await keyFor(purpose, secret), bytes.slice(12))
    return new Uint8Array(plain)
  } catch {
    return undefined
  }
}
