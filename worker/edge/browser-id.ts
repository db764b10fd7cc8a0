/**
 * Browser ids: what a browser keeps to say which contact it is. The Worker issues them sealed (AES-GCM
 * under STATE_SECRET, bound to the site), so a browser can neither forge one nor guess another's, and
 * the contact id inside never shows: ids an admin or an import chose never reach a page, and a page
 * cannot name them.
 *
 * Format: `b1.` + base64url(12-byte IV ‖ the sealed contact id). About 60 characters for a contact the
 * Worker made. Each issue has a fresh IV; the Worker answers with the id the browser sent while it still
 * names the same contact, so a browser's id changes only when its contact does.
 */
import { CONTACT_ID } from '../contacts/schema'
import { fromBase64Url, toBase64Url } from '../lib/base64url'
import { seal, unseal } from '../lib/seal'

const PREFIX = 'b1.'
/** Contact ids are at most 64 characters: a longer browser id was not issued by this Worker. */
export const MAX_BROWSER_ID_CHARS = 200

const bound = (siteId: string) => new TextEncoder().encode(siteId)

/** A browser id for this contact of this site. */
export async function issueBrowserId(secret: string, siteId: string, contactId: string): Promise<string> {
  return PREFIX + toBase64Url(await seal('segue-browser-id', secret, new TextEncoder().encode(contactId), bound(siteId)))
}

/**
 * The contact a browser id names; undefined for anything this Worker did not issue for this site (a
 * contact id typed by hand, an id from another site, a forged or mangled one), never an error.
 */
export async function openBrowserId(secret: string, siteId: string, browserId: unknown): Promise<string | undefined> {
  if (typeof browserId !== 'string' || !browserId.startsWith(PREFIX) || browserId.length > MAX_BROWSER_ID_CHARS) return undefined
  let bytes: Uint8Array
  try {
    bytes = fromBase64Url(browserId.slice(PREFIX.length))
  } catch {
    return undefined
  }
  const plain = await unseal('segue-browser-id', secret, bytes, bound(siteId))
  const contactId = plain && new TextDecoder().decode(plain)
  return contactId && CONTACT_ID.test(contactId) ? contactId : undefined
}
