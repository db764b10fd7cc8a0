/**
 * Cloudflare Access in front of the console. An Access application on `/admin` lets a person through once
 * they have signed in with the company's identity provider, and adds to every request it forwards a JWT,
 * the `Cf-Access-Jwt-Assertion` header, signed (RS256) with the team's keys. The Worker checks that JWT
 * against those keys, with the team domain as issuer and the application's audience tag, and takes the
 * person's email from it: no admin token to share. Access is on only where both ACCESS_TEAM_DOMAIN and
 * ACCESS_AUD are set (wrangler.toml's [vars], filled in by `npm run deploy`); the admin API never reads it.
 */
import { type JWTVerifyGetKey, createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose'
import { type Refusal, refuse } from './errors'

export const ASSERTION_HEADER = 'cf-access-jwt-assertion'

/**
 * The bindings Access reads. `wrangler types` gives the vars the literal type of wrangler.toml's empty
 * strings, so they are read through this wider type.
 */
export interface AccessBindings {
  /** `https://<team>.cloudflareaccess.com`: the issuer of every assertion, and where its keys are. */
  ACCESS_TEAM_DOMAIN?: string
  /** The Access application's audience tag (its "AUD"). */
  ACCESS_AUD?: string
  /**
   * Where the team's keys are fetched through; unset, from the internet. Tests put a fetcher here that
   * serves a key set of their own.
   */
  ACCESS_CERTS?: KeyFetcher
}

export type KeyFetcher = { fetch(url: string, init: RequestInit): Promise<Response> }

export interface AccessSettings {
  teamDomain: string
  audience: string
  keys: JWTVerifyGetKey
}

/** The one algorithm Access signs with: anything else (`none`, HS256 with the public key as secret) is refused. */
const ALGORITHMS = ['RS256']

const misconfigured = (message: string) => refuse('unavailable', 'access_misconfigured', `Cloudflare Access is not set up right: ${message} (docs/deploy.md)`)

/**
 * Access's settings, or undefined where Access is off (both vars empty). One var without the other, or a
 * team domain that is not an https origin, is refused (503) rather than taken as "off": a console meant to
 * be behind Access does not quietly fall back to the admin token.
 *
 * @example
 * accessSettings({ ACCESS_TEAM_DOMAIN: 'https://acme.cloudflareaccess.com', ACCESS_AUD: '4714c1…' })
 * // { teamDomain: 'https://acme.cloudflareaccess.com', audience: '4714c1…', keys }
 */
export function accessSettings(env: AccessBindings): AccessSettings | undefined {
  const domain = env.ACCESS_TEAM_DOMAIN?.trim() ?? ''
  const audience = env.ACCESS_AUD?.trim() ?? ''
  if (!domain && !audience) return undefined
  if (!domain) throw misconfigured('ACCESS_AUD is set but ACCESS_TEAM_DOMAIN is not')
  if (!audience) throw misconfigured('ACCESS_TEAM_DOMAIN is set but ACCESS_AUD is not')
  const teamDomain = teamOrigin(domain)
  if (!teamDomain) throw misconfigured(`ACCESS_TEAM_DOMAIN must be an https origin such as https://<team>.cloudflareaccess.com, not "${domain}"`)
  return { teamDomain, audience, keys: teamKeys(teamDomain, env.ACCESS_CERTS) }
}

/** `https://team.cloudflareaccess.com/` → `https://team.cloudflareaccess.com`; anything with a path, a query or credentials → undefined. */
function teamOrigin(value: string): string | undefined {
  try {
    const url = new URL(value)
    const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password
    return url.protocol === 'https:' && bare ? url.origin : undefined
  } catch {
    return undefined
  }
}

const INTERNET: KeyFetcher = { fetch: (url, init) => fetch(url, init) }
const keySets = new WeakMap<KeyFetcher, Map<string, JWTVerifyGetKey>>()

/**
 * The team's key set, fetched from `<team domain>/cdn-cgi/access/certs` once per isolate and fetcher and
 * kept: jose fetches it again after 10 minutes, or when an assertion names a key it does not have (Access
 * rotates its keys every 6 weeks), at most once every 30 seconds.
 */
function teamKeys(teamDomain: string, through: KeyFetcher = INTERNET): JWTVerifyGetKey {
  let byTeam = keySets.get(through)
  if (!byTeam) keySets.set(through, (byTeam = new Map()))
  let keys = byTeam.get(teamDomain)
  if (!keys) {
    keys = createRemoteJWKSet(new URL('/cdn-cgi/access/certs', teamDomain), { [customFetch]: (url, init) => through.fetch(url, init) })
    byTeam.set(teamDomain, keys)
  }
  return keys
}

/**
 * The email of the person an assertion vouches for. Throws a `Refusal` saying why otherwise: none sent
 * (the request did not come through Access), not a JWT, not signed with RS256 by one of the team's keys
 * (tampered, unsigned, or signed by someone else), issued by another team, for another application,
 * expired or not valid yet, or without an email (a service token); 503 when the keys cannot be fetched.
 *
 * @example
 * const email = await accessEmail(c.req.header(ASSERTION_HEADER), settings) // 'ana@acme.example'
 */
export async function accessEmail(assertion: string | undefined, settings: AccessSettings): Promise<string> {
  if (!assertion) {
    throw refuse('forbidden', 'access_missing', 'This console is behind Cloudflare Access, and this request did not come through it (it carries no Access assertion). Open the console at the address your Access application protects.')
  }
  let email: unknown
  try {
    const { payload } = await jwtVerify(assertion, settings.keys, {
      issuer: settings.teamDomain,
      audience: settings.audience,
      algorithms: ALGORITHMS,
      requiredClaims: ['exp'],
    })
    email = payload.email
  } catch (error) {
    throw whyRefused(error, settings)
  }
  if (typeof email !== 'string' || !email) {
    throw refuse('forbidden', 'access_no_email', 'The Cloudflare Access identity carries no email (a service token?). The console is for people; programs use the admin API with the admin token.')
  }
  return email
}

function whyRefused(error: unknown, settings: AccessSettings): Refusal {
  const forbidden = (code: string, message: string) => refuse('forbidden', `access_${code}`, `Your Cloudflare Access assertion is refused: ${message}.`)
  if (error instanceof errors.JWTExpired) return forbidden('expired', 'it has expired; reload the page to sign in with Access again')
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return forbidden('audience', "it is for another Access application (its audience is not this deployment's ACCESS_AUD)")
    if (error.claim === 'iss') return forbidden('issuer', `it was issued by another team than ${settings.teamDomain}`)
    if (error.claim === 'nbf') return forbidden('not_yet_valid', 'it is not valid yet')
    return forbidden('invalid', `its ${error.claim} claim is not valid`)
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return forbidden('signature', `its signature does not verify against the keys of ${settings.teamDomain}`)
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return forbidden('algorithm', 'it is not signed with RS256, as Access signs')
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JOSENotSupported) {
    return forbidden('malformed', 'it is not a well-formed signed JWT')
  }
  console.error('access: the team keys could not be fetched', error)
  return refuse('unavailable', 'access_keys_unavailable', `The keys of ${settings.teamDomain} could not be fetched to check your Cloudflare Access sign-in: try again in a moment.`, { retryAfter: 30 })
}
