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

/** When the content appears once the browser has it. */
export type Display =
  | { on: 'immediately' }
  | { on: 'delay'; ms: number }
  | { on: 'scroll'; percent: number }
  | { on: 'exit' }

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
  display: Display
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
  /** The workflow that decided to show it, echoed back in content events so reports can credit it. */
  workflow?: string
}
