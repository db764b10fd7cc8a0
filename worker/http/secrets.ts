/**
 * The Worker's secrets guard everything: ADMIN_TOKEN the admin API and console, STATE_SECRET every browser
 * id and state token (whoever knows it can forge any visitor's state). A deployment with a missing, short
 * or example secret answers every request with an error that says which, rather than run unprotected;
 * `SEGUE_ENV=development` (set in .dev.vars by `npm run dev`) or `test` lets the local ones through.
 */

/** Shorter than this is guessable. */
export const MIN_SECRET_CHARS = 32

/** The values .dev.vars.example ships with: public, so never a production secret. */
const EXAMPLES = new Set(['dev-admin-token', 'dev-state-secret-change-me-0123456789abcdef'])

/** What is wrong with the Worker's secrets, in words; empty when nothing is. */
export function secretProblems(env: Partial<Pick<Env, 'ADMIN_TOKEN' | 'STATE_SECRET' | 'SEGUE_ENV'>>): string[] {
  if (env.SEGUE_ENV === 'development' || env.SEGUE_ENV === 'test') return []
  const problems: string[] = []
  for (const name of ['ADMIN_TOKEN', 'STATE_SECRET'] as const) {
    const value = env[name]
    if (!value) problems.push(`${name} is not set`)
    else if (EXAMPLES.has(value)) problems.push(`${name} is the example value from .dev.vars.example`)
    else if (value.length < MIN_SECRET_CHARS) problems.push(`${name} is shorter than ${MIN_SECRET_CHARS} characters`)
  }
  return problems
}

let logged = false

/** The answer to every request while the secrets are unsafe; undefined when they are fine. */
export function refuseUnsafeSecrets(env: Env): Response | undefined {
  const problems = secretProblems(env)
  if (problems.length === 0) return undefined
  const message = `This Segue deployment is not configured safely: ${problems.join('; ')}. Set them with \`wrangler secret put\` (see the README's "Deploying").`
  if (!logged) console.error(message)
  logged = true
  return Response.json({ error: { code: 'misconfigured', message } }, { status: 500 })
}
