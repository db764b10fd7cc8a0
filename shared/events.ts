/**
 * The events a browser (POST /v1/events) or an import (POST /api/v1/sites/:site/contacts/:id/events)
 * sends. Types only: the SDK imports this file, so nothing here may add bytes to it.
 */

export type FieldValue = string | number | boolean

export interface BaseEvent {
  /** Unique per site; a repeated id is ignored, which makes retries and re-imports harmless. */
  id: string
  /** ISO 8601 time; the time of receipt when omitted. */
  at?: string
}

export interface PageVisitEvent extends BaseEvent {
  type: 'page_visit'
  url: string
  title?: string
  referrer?: string
  /** The browser's language (navigator.language), for content with versions per language. */
  language?: string
}

export interface IdentifyEvent extends BaseEvent {
  type: 'identify'
  email?: string
  externalId?: string
  /**
   * The site's server vouching for the email or the external id (one of them):
   * `<unix seconds>.<hex HMAC-SHA256 under the site's identity secret>`. Without it the identifier is
   * kept as an unverified claim on the visitor's own contact.
   */
  signature?: string
  /** Only the fields the site lets a browser set; null clears a field. */
  fields?: Record<string, FieldValue | null>
}

export interface PurchaseEvent extends BaseEvent {
  type: 'purchase'
  orderId?: string
  amount: number
  currency?: string
}

export type ContentAction = 'shown' | 'clicked' | 'closed' | 'submitted'

export interface ContentEvent extends BaseEvent {
  type: 'content'
  content: string
  action: ContentAction
  /** The workflow that showed it, as the answer said. */
  workflow?: string
  /** `submitted` of a form with a consent checkbox: whether the visitor ticked it. */
  consent?: boolean
}

export interface CustomEvent extends BaseEvent {
  type: 'custom'
  name: string
  props?: Record<string, FieldValue>
}

export type SegueEvent = PageVisitEvent | IdentifyEvent | PurchaseEvent | ContentEvent | CustomEvent
export type EventType = SegueEvent['type']
