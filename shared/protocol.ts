/**
 * POST /v1/events: the one request the browser makes, and its answer. Types and constants only.
 */
import { type ContentPayload } from './content'
import { type SegueEvent } from './events'

export const EVENTS_PATH = '/v1/events'
export const MAX_EVENTS_PER_BATCH = 50
export const MAX_BODY_BYTES = 65_536

export interface EventsRequest {
  /** The site's public key, from the script tag. */
  site: string
  /**
   * The browser id of the previous answer: sealed by the Worker, so a browser cannot forge or guess one.
   * Absent, or anything the Worker did not issue for this site, and the visitor is a new contact.
   */
  contact?: string
  /** The sealed state token of the previous answer. */
  state?: string
  events: SegueEvent[]
}

export interface EventsResponse {
  /** The browser id to keep and send back: it names the browser's contact without showing its id. Absent
   * for a crawler, which gets no contact. */
  contact?: string
  /** Sealed state to send back with the next batch; absent when too large to carry. */
  state?: string
  content: ContentPayload[]
}
