/**
 * The admin API's OpenAPI document: every route the router has is in it (and nothing else), every example
 * it shows passes the schema it is shown with, the document is OpenAPI 3.1 with every $ref resolving, the
 * answers it describes are what the API answers, and the console shows it at /admin/api.
 */
import { z } from 'zod'
import { beforeAll, describe, expect, it } from 'vitest'
import { adminApi } from '../../worker/api'
import { SCALAR_BUNDLE } from '../../worker/console/api-reference'
import { conditionTree } from '../../worker/conditions/schema'
import { OPERATIONS } from '../../worker/openapi/document'
import { REFUSALS, errorBody } from '../../worker/openapi/errors'
import { type Examples, type Operation, openApiPath, pathParams } from '../../worker/openapi/operation'
import { Edge } from './edge-harness'
import { ADMIN_TOKEN } from './fixtures'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

/** `GET /sites/{site}`: how a route and an operation are named in a failure. */
const named = (method: string, path: string) => `${method.toUpperCase()} ${openApiPath(path)}`

const edge = new Edge()
let document: any
/** Path parameters the demo has no fixed value for: made in `beforeAll`, by name. */
const made: Record<string, string> = {}

beforeAll(async () => {
  // The demo of `npm run dev`, under the site id the document's examples name.
  await edge.seedDemo('demo', 'pk_demo_openapi01')
  const startImport = OPERATIONS.find((op) => op.id === 'startContactImport')!
  const started = await edge.admin('POST', '/sites/demo/contacts/imports', Object.values(startImport.body!.examples)[0].value)
  expect(started.status).toBe(201)
  made.import = started.body.id
  const res = await edge.fetch('/api/v1/openapi.json', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  expect(res.status).toBe(200)
  document = await res.json()
})

describe('the document covers the admin API', () => {
  // Hono lists middleware as ALL; a route with a middleware of its own is listed once per handler.
  const routes = [...new Set(adminApi.routes.filter((r) => r.method !== 'ALL').map((r) => named(r.method, r.path)))]

  it('documents every route of the router, so that adding a route means documenting it in worker/openapi', () => {
    const documented = new Set(OPERATIONS.map((op) => named(op.method, op.path)))
    const missing = routes.filter((r) => !documented.has(r))
    expect(missing, `routes without an operation in worker/openapi/<feature>.ts: ${missing.join(', ')}`).toEqual([])
    for (const route of routes) {
      const [method, path] = route.split(' ')
      expect(document.paths[path]?.[method.toLowerCase()], `${route} is not in /api/v1/openapi.json`).toBeDefined()
    }
  })

  it('documents no route the router does not have', () => {
    const stale = OPERATIONS.map((op) => named(op.method, op.path)).filter((op) => !routes.includes(op))
    expect(stale).toEqual([])
  })

  it('names each operation once, with its own operationId', () => {
    const ids = OPERATIONS.map((op) => op.id)
    expect(ids.length).toBe(new Set(ids).size)
    expect(OPERATIONS.length).toBe(new Set(OPERATIONS.map((op) => named(op.method, op.path))).size)
  })
})

describe('every documented example passes its own schema', () => {
  const cases: Array<[string, z.ZodType, unknown]> = []
  const add = (where: string, schema: z.ZodType | undefined, examples: Examples | undefined) => {
    for (const [name, example] of Object.entries(examples ?? {})) {
      if (!schema) throw new Error(`${where}: example "${name}" has no schema to be checked against`)
      cases.push([`${where}: ${name}`, schema, example.value])
    }
  }
  for (const op of OPERATIONS) {
    const where = named(op.method, op.path)
    add(`${where} request body`, op.body?.schema, op.body?.examples)
    for (const answer of [op.ok, ...(op.otherAnswers ?? [])]) add(`${where} ${answer.status}`, answer.schema, answer.examples)
  }
  for (const [status, refusal] of Object.entries(REFUSALS)) add(`refusal ${status}`, errorBody, refusal.examples)
  for (const [i, example] of (z.globalRegistry.get(conditionTree)?.examples as unknown[]).entries()) cases.push([`conditions example ${i}`, conditionTree, example])

  it.each(cases)('%s', (_, schema, value) => {
    const result = schema.safeParse(value)
    expect(result.success ? [] : result.error.issues).toEqual([])
  })

  it('shows a request example for every body and an answer example for every answer with a body', () => {
    const bare = OPERATIONS.filter((op) => (op.body && Object.keys(op.body.examples).length === 0) || [op.ok, ...(op.otherAnswers ?? [])].some((a) => a.schema && !a.examples))
    expect(bare.map((op) => op.id)).toEqual([])
  })
})

describe('the document is OpenAPI 3.1', () => {
  it('says so, with its title, version and the admin token as its security', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/)
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) })
    expect(document.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(document.security).toEqual([{ adminToken: [] }])
  })

  it('resolves every $ref inside itself', () => {
    const refs: string[] = []
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk)
      else if (v && typeof v === 'object') {
        for (const [k, child] of Object.entries(v)) {
          if (k === '$ref') refs.push(child as string)
          else walk(child)
        }
      }
    }
    walk(document)
    expect(refs.length).toBeGreaterThan(0)
    const unresolved = refs.filter((ref) => {
      if (!ref.startsWith('#/')) return true
      let at: any = document
      for (const part of ref.slice(2).split('/')) at = at?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
      return at === undefined
    })
    expect([...new Set(unresolved)]).toEqual([])
  })

  it('declares each path parameter of each operation, and no other', () => {
    for (const [path, item] of Object.entries<any>(document.paths)) {
      const expected = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort()
      for (const method of METHODS) {
        if (!item[method]) continue
        const declared = (item[method].parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name).sort()
        expect(declared, `${method} ${path}`).toEqual(expected)
      }
    }
  })

  it('documents the refusals of each operation with the error body', () => {
    for (const op of OPERATIONS) {
      const responses = document.paths[openApiPath(op.path)][op.method].responses
      const statuses = Object.keys(responses).map(Number)
      expect(statuses, named(op.method, op.path)).toContain(401)
      if (op.body) expect(statuses, named(op.method, op.path)).toEqual(expect.arrayContaining([400, 413]))
      if (pathParams(op.path).length > 0) expect(statuses, named(op.method, op.path)).toContain(404)
      for (const status of statuses.filter((s) => s >= 400)) {
        expect(responses[status].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' })
      }
    }
  })

  it('is behind the admin token, like the rest of the API', async () => {
    const res = await edge.fetch('/api/v1/openapi.json')
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } })
  })
})

describe('the answers it documents are what the API answers', () => {
  // Reads need no setup but the demo: their path parameters' examples name its site, contacts, segments…
  const reads = OPERATIONS.filter((op) => op.method === 'get' && op.ok.schema)
  const example = (op: Operation, name: string) => made[name] ?? (name === 'site' ? 'demo' : op.params![name].example)

  it.each(reads.map((op) => [named(op.method, op.path), op] as const))('%s', async (_, op) => {
    const path = op.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => encodeURIComponent(example(op, name)))
    const res = await edge.fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    const body = op.ok.contentType ? await res.text() : await res.json()
    expect(res.status, JSON.stringify(body)).toBe(op.ok.status)
    if (op.ok.contentType) expect(res.headers.get('content-type')).toContain(op.ok.contentType)
    const result = op.ok.schema!.safeParse(body)
    expect(result.success ? [] : result.error.issues).toEqual([])
  })
})

describe('the console shows the reference at /admin/api', () => {
  let cookie: string
  beforeAll(async () => {
    cookie = await edge.consoleCookie('192.0.2.210')
  })

  it('draws it with the Scalar bundle the Worker serves, under the console CSP', async () => {
    const res = await edge.fetch('/admin/api', { headers: { cookie } })
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain(`<script src="${SCALAR_BUNDLE}" defer=""></script>`)
    expect(html).toMatch(/<script id="api-reference" type="application\/json" data-configuration="[^"]*\/admin\/api\/openapi.json/)
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("connect-src 'self'")
    // Nothing from another origin: no CDN for scripts, styles or fonts.
    expect(csp).not.toMatch(/(script|style|font|connect)-src[^;]*https?:/)
  })

  it('serves the document to a signed-in session, and to no one else', async () => {
    const signedIn = await edge.fetch('/admin/api/openapi.json', { headers: { cookie } })
    expect(signedIn.status).toBe(200)
    expect(await signedIn.json()).toEqual(document)
    const anonymous = await edge.fetch('/admin/api/openapi.json', { redirect: 'manual' })
    expect(anonymous.status).toBe(303)
    expect(anonymous.headers.get('location')).toContain('/admin/sign-in')
  })
})
