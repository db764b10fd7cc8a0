/**
 * Browser ids: what a browser keeps to say which contact it is. The Worker issues them sealed (AES-GCM
 * under STATE_SECRET, bound to the site), so a browser can neither forge one nor guess another's, and
 * the contact id inside never shows — not even its length: ids an admin or an import chose never reach a
 * page, and a page cannot name them.
 *
 * Format: `b1.` + base64url(12-byte IV ‖ sealed(4-byte issue time in Unix seconds ‖ the contact id, NUL
 * padded to 64 bytes)), 131 characters. The issue time lets the Worker refuse an id issued before its
 * contact was created: an id of an erased contact never reaches a later contact given the same id. Each
 * issue has a fresh IV; the Worker answers with the id the browser sent while it still names the same
 * contact, so a browser's id changes only when its contact does.
 */
import { CONTACT_ID } from '../contacts/schema'
import { fromBase64Url, toBase64Url } from '../lib/base64url'
import { seal, unseal } from '../lib/seal'

const PREFIX = 'b1.'
/** Contact ids are at most 64 characters of ASCII (CONTACT_ID), so they pad to a fixed size. */
const ID_BYTES = 64
/** Longer than any browser id this Worker issues. */
export const MAX_BROWSER_ID_CHARS = 200

const bound = (siteId: string) => new TextEncoder().encode(siteId)

/** What a browser id says: the contact, and when the id was issued (epoch ms, to the second). */
export interface BrowserId {
  contactId: string
  issuedAt: number
}

/** A browser id for this contact of this site, issued `now`. */
export async function issueBrowserId(secret: string, siteId: string, contactId: string, now: number): Promise<string> {
  const plain = new Uint8Array(4 + ID_BYTES)
  new DataView(plain.buffer).setUint32(0, Math.floor(now / 1000))
  plain.set(new TextEncoder().encode(contactId), 4)
  return PREFIX + toBase64Url(await seal('segue-browser-id', secret, plain, bound(siteId)))
}

/**
 * What a browser id says; undefined for anything this Worker did not issue for this site (a contact id
 * typed by hand, an id from another site, a forged or mangled one), never an error.
 */
export async function openBrowserId(secret: string, siteId: string, browserId: unknown): Promise<BrowserId | undefined> {
  if (typeof browserId !== 'string' || !browserId.startsWith(PREFIX) || browserId.length > MAX_BROWSER_ID_CHARS) return undefined
  let bytes: Uint8Array
  try {
    bytes = fromBase64Url(browserId.slice(PREFIX.length))
  } catch {
    return undefined
  }
  const plain = await unseal('segue-browser-id', secret, bytes, bound(siteId))
  if (!plain || plain.length !== 4 + ID_BYTES) return undefined
  const contactId = new TextDecoder().decode(plain.subarray(4)).replace(/\0+$/, '')
  const issuedAt = new DataView(plain.buffer, plain.byteOffset).getUint32(0) * 1000
  return CONTACT_ID.test(contactId) ? { contactId, issuedAt } : undefined
}
