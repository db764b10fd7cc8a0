/** The ids of everything Segue makes: random, unguessable, with a prefix that says what each names. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/**
 * A random id with a readable prefix, 16 characters of [a-z0-9] after it (about 82 bits).
 *
 * @example
 * newId('seg') // 'seg_k3v9x0q2m8a1c7ze'
 */
export function newId(prefix: string, length = 16): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  let out = ''
  // 252 is the largest multiple of 36 below 256: rejecting above it keeps every character equally likely.
  for (let i = 0; out.length < length; i++) {
    if (i === bytes.length) {
      crypto.getRandomValues(bytes)
      i = 0
    }
    if (bytes[i] < 252) out += ALPHABET[bytes[i] % 36]
  }
  return `${prefix}_${out}`
}
