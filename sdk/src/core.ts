/**
 * The SDK's tracking core, shared by the script tag and the ESM build: contact id and state token,
 * consent, page visits, batching and sending. The renderer is not part of it: the core loads it (with the
 * `load` its build passes) only when an answer carries content. Nothing here throws into the page or
 * waits on it.
 */
import { type SegueEvent } from '../../shared/events'
import { type EventsResponse, EVENTS_PATH, MAX_EVENTS_PER_BATCH } from '../../shared/protocol'
import { toJson } from './json'
import { watchNavigation } from './navigation'
import { type Report } from './render'
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
  /** Count a change of the address's `#fragment` as a page visit, for sites routed by hash (`#/albums`). */
  hashRoutes?: boolean
  debug?: boolean
}

/** The renderer module, as `import()` gives it. */
export type Renderer = typeof import('./render')

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

/**
 * @example
 * const segue = create({ site: 'pk_…', endpoint: 'https://edge.example' }, () => import('./render'))
 * segue.start()
 */
export function create(o: Options, load: () => Promise<Renderer>): Segue {
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
  let renderer: Promise<Renderer> | undefined

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
      if (answer.content.length) showAll(answer.content)
    } catch (err) {
      log(err)
    } finally {
      clearTimeout(late)
      busy = false
      if (queue.length) schedule()
    }
  }

  /** What the visitor does with content; a form's values go in the same batch, just before it. */
  const report: Report = (c, action, who, consent) => {
    if (who) push({ type: 'identify', ...who })
    push({ type: 'content', content: c.id, action, workflow: c.workflow, consent })
  }

  function showAll(content: EventsResponse['content']) {
    ;(renderer = renderer || load())
      .then(
        (r) => {
          for (let i = 0; i < content.length; i++) r.show(content[i], report)
        },
        (err) => {
          // Tried again with the next content: a network blip must not keep it away for good.
          renderer = undefined
          throw err
        },
      )
      .catch(log)
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
    let href = url || location.href
    if (!o.hashRoutes) href = href.split('#')[0]
    if (href == lastUrl) return
    const referrer = lastUrl || document.referrer
    lastUrl = href
    push({ type: 'page_visit', url: href, title: document.title || undefined, referrer: referrer || undefined, language: navigator.language || undefined })
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
