/**
 * Who a visitor is. A browser never proves it by saying it: the site's own server vouches for a visitor
 * by signing their email or external id with the site's identity secret, and the page passes the
 * signature along: `segue('identify', { email, signature })`.
 *
 *   signature = `${t}.${hex(HMAC-SHA256(identitySecret, `${t}.${kind}.${value}`))}`
 *
 * `t` is when it was signed, in Unix seconds; `kind` is `email` or `externalId`; `value` is exactly what the
 * identify sends, and a signed email is sent as Segue keeps emails (trimmed and lower-cased), so what is
 * kept is exactly what the site signed. A signature is good from SIGNATURE_SKEW_S before `t` (clocks
 * disagree) until SIGNATURE_MAX_AGE_S after it: it is made as the page is, and used as the page loads.
 *
 * What an identify then does to the browser's contact is decided here, as plain data:
 * - a verified identifier (a valid signature, or a site that trusts unsigned identify) that another contact
 *   holds merges an anonymous browser's contact into it, and switches a browser tied to a known contact
 *   over to it: two known contacts are never merged from a browser;
 * - a verified identifier nobody holds is taken by the browser's contact, unless that contact is already
 *   someone else (it holds another identifier of that kind): then the browser switches to a new contact;
 * - an identifier without proof is a claim kept on the browser's own contact: it never reaches another
 *   contact, and one that contradicts the contact's verified identity switches the browser to a new
 *   anonymous contact (a shared computer).
 */
import { newId } from '../lib/ids'
import { type Snapshot } from './snapshot'

/** How long a signature is good for after it was made: anyone who holds one can use it until then. */
export const SIGNATURE_MAX_AGE_S = 10 * 60
/** How far in the future a signature's time may be, for a site server whose clock runs ahead. */
export const SIGNATURE_SKEW_S = 5 * 60
/** `<unix seconds>.<64 hex digits>` */
export const SIGNATURE = /^\d{1,12}\.[0-9a-fA-F]{64}$/

export type IdentifierKind = 'email' | 'externalId'

export interface Identifier {
  kind: IdentifierKind
  value: string
}

/** What one identify says about who the visitor is, once its signature has been checked. */
export interface IdentifyClaims {
  /** Identifiers the site vouched for, external id first. */
  verified: Identifier[]
  /** Identifiers the browser gave without proof. */
  claimed: Identifier[]
  /** Why a signature that came with the identify was not accepted. */
  refused?: 'expired' | 'mismatch'
}

/** What a verified identifier does to the browser's contact. */
export type IdentityStep =
  /** It is this contact; `attach` is an identifier the contact takes. */
  | { to: 'self'; attach?: Identifier }
  /** This anonymous contact is `owner`: merge it into that one. */
  | { to: 'merge'; owner: string }
  /** This known contact is not who the browser is now: switch to `owner`. */
  | { to: 'owner'; owner: string }
  /** Someone nobody knows yet: switch to a new contact that takes `attach`. */
  | { to: 'new'; attach: Identifier }

/** A new site's identity secret: about 206 random bits, shown to its owner once. */
export function newIdentitySecret(): string {
  return newId('idsec', 40)
}

/** Whether the contact has a verified identity (an email or external id it was proved to have). */
export function isKnown(snap: Snapshot): boolean {
  return typeof snap.f.email === 'string' || typeof snap.f.externalId === 'string'
}

/**
 * Where a verified identifier leads from the browser's contact. `ownerOf` finds the contact that holds
 * an identifier (one D1 read); it is asked only when the snapshot does not already hold it.
 */
export async function verifiedStep(snap: Snapshot, id: Identifier, ownerOf: (id: Identifier) => Promise<string | undefined>): Promise<IdentityStep> {
  if (snap.f[id.kind] === id.value) return { to: 'self' }
  const owner = await ownerOf(id)
  if (owner === snap.id) return { to: 'self' }
  if (owner !== undefined) return isKnown(snap) ? { to: 'owner', owner } : { to: 'merge', owner }
  return typeof snap.f[id.kind] === 'string' ? { to: 'new', attach: id } : { to: 'self', attach: id }
}

/**
 * Where unverified identifiers lead: claims kept on the browser's own contact, or, when one contradicts
 * what the contact is known to be, a new anonymous contact that keeps them. A claim of what the contact
 * already is changes nothing.
 */
export function claimStep(snap: Snapshot, claimed: readonly Identifier[]): { to: 'self' | 'new'; claims: Identifier[] } {
  const contradicts = claimed.some((c) => typeof snap.f[c.kind] === 'string' && snap.f[c.kind] !== c.value)
  if (contradicts) return { to: 'new', claims: [...claimed] }
  return { to: 'self', claims: claimed.filter((c) => snap.f[c.kind] !== c.value) }
}

/** The identifiers of an identify event, sorted into verified and claimed by its signature. */
export async function checkIdentify(
  site: { identitySecret: string; trustUnsignedIdentify: boolean },
  identify: { email?: string; externalId?: string; signature?: string },
  nowMs: number,
): Promise<IdentifyClaims> {
  const given: Identifier[] = []
  if (identify.externalId !== undefined) given.push({ kind: 'externalId', value: identify.externalId })
  if (identify.email !== undefined) given.push({ kind: 'email', value: identify.email })
  if (identify.signature === undefined) return site.trustUnsignedIdentify ? { verified: given, claimed: [] } : { verified: [], claimed: given }
  // The door lets a signature come with exactly one identifier.
  const signed = given[0]
  const verdict = await checkSignature(site.identitySecret, signed, identify.signature, nowMs)
  return verdict === 'valid' ? { verified: [signed], claimed: [] } : { verified: [], claimed: [signed], refused: verdict }
}

const hmacKeys = new Map<string, Promise<CryptoKey>>()

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret)
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
    hmacKeys.set(secret, key)
  }
  return key
}

const signedText = (t: string, id: Identifier) => new TextEncoder().encode(`${t}.${id.kind}.${id.value}`)

/** Checks a signature of an identifier: in time, and made with this secret. Compares in constant time. */
export async function checkSignature(secret: string, id: Identifier, signature: string, nowMs: number): Promise<'valid' | 'expired' | 'mismatch'> {
  if (!SIGNATURE.test(signature)) return 'mismatch'
  const [t, hex] = signature.split('.')
  const age = Math.floor(nowMs / 1000) - Number(t)
  if (age > SIGNATURE_MAX_AGE_S || age < -SIGNATURE_SKEW_S) return 'expired'
  const mac = new Uint8Array(32)
  for (let i = 0; i < 32; i++) mac[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return (await crypto.subtle.verify('HMAC', await hmacKey(secret), mac, signedText(t, id))) ? 'valid' : 'mismatch'
}

/**
 * Signs an identifier as a site's server does (the demo page signs this way for the demo store).
 *
 * @example
 * await signIdentity(site.identitySecret, { kind: 'email', value: 'ana@example.com' }, Date.now())
 * // '1764410000.5f1c…' (64 hex digits after the dot)
 */
export async function signIdentity(secret: string, id: Identifier, nowMs: number): Promise<string> {
  const t = String(Math.floor(nowMs / 1000))
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), signedText(t, id)))
  return `${t}.${[...mac].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}
