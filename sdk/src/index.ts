/**
 * The ESM build, for sites that bundle Segue:
 *
 * @example
 * import { init, track, identify } from 'segue-sdk'
 * init({ site: 'pk_…', endpoint: 'https://edge.example' })
 * identify({ email: 'ana@example.com', signature: '1764410000.5f1c…', fields: { birthDate: '1990-04-02' } })
 * track('purchase', { orderId: 'o-1', amount: 24.9, currency: 'EUR' })
 *
 * The renderer is a separate chunk (render.<hash>.js beside segue.mjs), loaded when content comes.
 */
import { type Identity, type Options, type Segue, create } from './core'

export type { Identity, Options, Segue }
export type { ContentPayload } from '../../shared/content'

let client: Segue | undefined

/** Starts Segue on this page: records the page visit and every single-page-app navigation. */
export function init(options: Options): Segue {
  if (!client) {
    // A literal import, so the site's bundler splits the renderer into a chunk of its own.
    client = create(options, () => import('./render'))
    client.start()
  }
  return client
}

/** `track('purchase', { orderId, amount, currency })`, or a custom event with its properties. */
export function track(name: string, props?: Record<string, unknown>): void {
  client?.track(name, props)
}

/**
 * Tells Segue who the visitor is: an email or external id with the signature the site's server made for
 * it, and the fields the site lets a browser set.
 */
export function identify(who: Identity): void {
  client?.identify(who)
}

/** Gives (true) or withdraws (false) consent, when the site started Segue with consentRequired. */
export function consent(given: boolean): void {
  client?.consent(given)
}
