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
  /** The contact id the browser holds; a new one is made when absent or unknown. */
  contact?: string
  /** The sealed state token of the previous answer. */
  state?: string
  events: SegueEvent[]
}

export interface EventsResponse {
  /** The contact id to keep (new, or the known contact an identify merged this one into). */
  contact: string
  /** Sealed state to send back with the next batch; absent when too large to carry. */
  state?: string
  content: ContentPayload[]
}
