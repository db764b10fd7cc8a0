/**
 * Content as the Worker sends it to the browser: what to render, where, and when. Types and constants
 * only: the SDK imports this file, so nothing here may add bytes to it.
 */

export type ContentFormat = 'popup' | 'slide-in' | 'bar' | 'inline'

/** The nine places a popup or slide-in can sit; a bar uses `top` or `bottom`. */
export type Position =
  | 'top-left' | 'top' | 'top-right'
  | 'left' | 'center' | 'right'
  | 'bottom-left' | 'bottom' | 'bottom-right'

/** Where an inline block goes relative to the element its selector finds. */
export type Placement = 'before' | 'after' | 'inside' | 'replace'

/**
 * When the content appears once the browser has it: at once, after a delay, at a scroll depth, on exit
 * intent, on a click of an element the selector finds (`click`), or after `seconds` without the visitor
 * moving, typing, scrolling or touching (`idle`). The owner's triggers "after N seconds on the site" and
 * "after N page views in the session" are worked out at the edge and reach browsers as a `delay` (or as
 * nothing yet).
 */
export type Display =
  | { on: 'immediately' }
  | { on: 'delay'; ms: number }
  | { on: 'scroll'; percent: number }
  | { on: 'exit' }
  | { on: 'click'; selector: string }
  | { on: 'idle'; seconds: number }

/**
 * Display triggers the edge works out from the contact's session and sends on as a `delay` (seconds on the
 * site) or not at all yet (page views in the session): they never reach browsers as such.
 */
export type EdgeDisplay = { on: 'pageViews'; count: number } | { on: 'timeOnSite'; seconds: number }

/** What a version of content in another language replaces; what it leaves out stays as the default's. */
export interface ContentVersion {
  title?: string
  body?: string
  cta?: { label: string; url: string }
  form?: ContentForm
}

/** A field of a form in content: the contact's email, first name, or a field the site lets browsers set. */
export interface FormField {
  /** `email`, `firstName`, or a key of the site's browser fields. */
  key: string
  label: string
  type: 'email' | 'text' | 'number' | 'date' | 'checkbox'
  required?: boolean
}

/**
 * A form in content. Submitting it identifies the visitor with its values (an identify event: the email
 * and the fields, never a signature, so the email is an unverified claim where the site signs identities)
 * and records a `submitted` content event; then `thanks` replaces the form.
 */
export interface ContentForm {
  fields: FormField[]
  /** A checkbox with the owner's text (plain text), which must be ticked to submit when `required`. */
  consent?: { text: string; required?: boolean }
  /** The submit button's label. */
  submit: string
  /** What the visitor reads once the form is sent (plain text). */
  thanks?: string
}

export interface ContentPayload {
  id: string
  format: ContentFormat
  position?: Position
  selector?: string
  placement?: Placement
  title?: string
  /** HTML already reduced to the allow-list: p, a, strong, em, br, ul, ol, li, img. */
  body?: string
  image?: string
  cta?: { label: string; url: string }
  form?: ContentForm
  display: Display
  /**
   * Versions in other languages, by language tag (`ar`, `pt-BR`), and the language of the default one.
   * The edge picks the version for the visitor and sends only that. Never sent to browsers.
   */
  versions?: Record<string, ContentVersion>
  defaultLanguage?: string
  /** The language of the version chosen for the visitor (BCP 47), when the content has versions. */
  lang?: string
  /** Set for a right-to-left language: the content is laid out right to left. */
  dir?: 'rtl'
  /** Popups: whether a click on the backdrop closes it. */
  backdropCloses?: boolean
  /**
   * Whether it interrupts the visitor, for workflow priority: popups and slide-ins do unless set false,
   * bars and inline content do not unless set true.
   */
  interruptive?: boolean
  /**
   * When it may show, in the site's time zone: `start` and `end` (local date-times), weekly hours; always
   * when absent. Decided at the edge, and never sent to browsers.
   */
  schedule?: { start?: string; end?: string; weekly?: Array<{ days: string[]; from: string; to: string }> }
  /** Never shown again to a visitor who closed it. Decided at the edge, and never sent to browsers. */
  neverAfterClosed?: boolean
  /**
   * Never shown again to a visitor who converted (the site's conversion event) within the attribution window
   * after it was first shown to them. Decided at the edge, and never sent to browsers.
   */
  neverAfterConverted?: boolean
  /** Never shown again to a visitor who submitted its form. Decided at the edge, and never sent to browsers. */
  neverAfterSubmitted?: boolean
  /** The workflow that decided to show it, echoed back in content events so reports can credit it. */
  workflow?: string
}

/** Content as stored and published to the edge: display triggers the edge works out are allowed too. */
export type StoredContent = Omit<ContentPayload, 'display'> & { display: Display | EdgeDisplay }

