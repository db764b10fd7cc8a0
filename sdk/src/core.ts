/**
 * The SDK's heart, shared by the script tag and the ESM build: contact id and state token, consent,
 * page visits, batching and sending, and handing answers to the renderer. Nothing here throws into the
 * page or waits on it.
 */
import { type SegueEvent } from '../../shared/events'
import { type EventsResponse, EVENTS_PATH, MAX_EVENTS_PER_BATCH } from '../../shared/protocol'
import { toJson } from './json'
import { watchNavigation } from './navigation'
import { show } from './render'
import { type Store, memory, openStore } from './storage'

export interface Options {
  /** The site's public key. */
  site: string
  /** Where the Worker answers, such as https://edge.example (no path). */
  endpoint: string
  /** Send and store nothing until consent(true). */
  consentRequired?: boolean
  /** Honour Global Privacy Control and Do Not Track (default true). */
  respectDnt?: boolean
  debug?: boolean
}

/** An event as the SDK queues it: the Worker's shapes, before the SDK gives it an id. */
type Pending = SegueEvent extends infer E ? (E extends SegueEvent ? Omit<E, 'id'> & { id?: string } : never) : never

/** A decision that has not arrived by then is dropped: the page never waits on the Worker. */
const TIMEOUT_MS = 3000
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz012345'

function newId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  let s = ''
  for (let i = 0; i < 16; i++) s += ALPHABET[b[i] & 31]
  return s
}

/**
 * Who the visitor is. `signature` is the site's server vouching for the email or the external id (sign
 * one of them); without it they are kept as the visitor's own unverified claim.
 */
export interface Identity {
  email?: string
  externalId?: string
  signature?: string
  fields?: Record<string, unknown>
}

export interface Segue {
  track(name: string, props?: Record<string, unknown>): void
  identify(who: Identity): void
  consent(given: boolean): void
  /** Records this page visit, and every single-page-app navigation from now on. */
  start(): void
  /** Runs a command of the script-tag queue: ('track', name, props), ('identify', who), ('consent', bool). */
  command(args: ArrayLike<unknown>): void
}

export function create(o: Options): Segue {
  const url = o.endpoint.replace(/\/+$/, '') + EVENTS_PATH
  const keyContact = 'segue_c_' + o.site
  const keyState = 'segue_s_' + o.site
  const n = navigator as Navigator & { globalPrivacyControl?: boolean }
  const off = o.respectDnt !== false && (n.globalPrivacyControl === true || n.doNotTrack == '1' || (window as { doNotTrack?: string }).doNotTrack == '1')
  const send = window.fetch
  let consented = !o.consentRequired
  let store: Store | undefined
  let queue: Pending[] = []
  let busy = false
  let timer = 0
  let lastUrl = ''

  const log = (...args: unknown[]) => {
    if (o.debug) console.log('[segue]', ...args)
  }
  const storage = () => store || (store = consented ? openStore() : memory())

  function push(e: Pending) {
    if (off) return
    e.id = newId()
    queue.push(e)
    schedule()
  }

  function schedule() {
    if (!timer && consented) timer = setTimeout(flush, 0) as unknown as number
  }

  function body(events: Pending[]): string {
    const s = storage()
    // The browser id is the Worker's to issue: none is sent until an answer brought one.
    return toJson({ site: o.site, contact: s.get(keyContact) || undefined, state: s.get(keyState) || undefined, events })
  }

  async function flush() {
    timer = 0
    if (busy || !queue.length || !consented || off) return
    const events = queue.splice(0, MAX_EVENTS_PER_BATCH)
    busy = true
    const abort = new AbortController()
    const late = setTimeout(() => abort.abort(), TIMEOUT_MS)
    try {
      const res = await send(url, { method: 'POST', body: body(events), keepalive: true, signal: abort.signal })
      const answer = (await res.json()) as EventsResponse
      if (!res.ok) throw answer
      const s = storage()
      s.set(keyContact, answer.contact || null)
      s.set(keyState, answer.state || null)
      for (let i = 0; i < answer.content.length; i++) show(answer.content[i], (c, action) => push({ type: 'content', content: c.id, action, workflow: c.workflow }))
    } catch (err) {
      log(err)
    } finally {
      clearTimeout(late)
      busy = false
      if (queue.length) schedule()
    }
  }

  /** While the page is being hidden, what is left goes with sendBeacon, which outlives the page. */
  function beacon() {
    if (!queue.length || !consented || off) return
    try {
      navigator.sendBeacon(url, new Blob([body(queue.splice(0, MAX_EVENTS_PER_BATCH))], { type: 'text/plain' }))
    } catch (err) {
      log(err)
    }
  }

  function page(url?: string) {
    const href = (url || location.href).split('#')[0]
    if (href == lastUrl) return
    const referrer = lastUrl || document.referrer
    lastUrl = href
    push({ type: 'page_visit', url: href, title: document.title || undefined, referrer: referrer || undefined })
  }

  const api: Segue = {
    track(name, props) {
      if (name == 'purchase') push({ type: 'purchase', ...(props as { amount: number }) })
      else push({ type: 'custom', name, props: props as Record<string, string> })
    },
    identify(who) {
      push({ type: 'identify', ...(who as object) })
    },
    consent(given) {
      consented = given !== false
      if (consented) {
        // Storage was memory until now: move the id and token to lasting storage.
        const before = store
        store = openStore()
        if (before) for (const k of [keyContact, keyState]) if (before.get(k)) store.set(k, before.get(k))
        schedule()
      } else {
        queue = []
        if (store) {
          store.set(keyContact, null)
          store.set(keyState, null)
        }
        store = undefined
      }
    },
    start() {
      page()
      watchNavigation(page)
    },
    command(args) {
      const cmd = args[0]
      try {
        if (cmd == 'track') api.track(args[1] as string, args[2] as Record<string, unknown>)
        else if (cmd == 'identify') api.identify(args[1] as object)
        else if (cmd == 'consent') api.consent(args[1] as boolean)
        else log('?', cmd)
      } catch (err) {
        log(err)
      }
    },
  }

  if (off) log('GPC or DNT: off')
  addEventListener('pagehide', beacon)
  document.addEventListener('visibilitychange', () => document.visibilityState == 'hidden' && beacon())
  return api
}
