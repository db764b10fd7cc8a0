/**
 * An operation of the admin API as Segue documents it: the route as the router spells it, the zod schema
 * the route (or its service) validates the body with, the answer, the refusals beyond those every route
 * shares, and examples. `routeConfig` turns one into what @hono/zod-openapi's registry takes; the test
 * checks every example against its schema and every route of the router against these.
 */
import { type RouteConfig, z } from '@hono/zod-openapi'
import { REFUSALS, type RefusalStatus, errorBody } from './errors'

/** Named examples, as OpenAPI 3.1 lists them beside a schema. */
export type Examples = Record<string, { summary?: string; value: unknown }>

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'

/** A successful answer: its status, its body's schema and examples (JSON unless `contentType` says). */
export interface Answer {
  status: 200 | 201 | 202 | 204
  description: string
  schema?: z.ZodType
  examples?: Examples
  contentType?: string
}

export interface Operation {
  /** The operationId: what a generated client names the method (`createSegment`). */
  id: string
  method: Method
  /** As the admin API's router spells it, below /api/v1: `/sites/:site/segments/:id`. */
  path: string
  /** The sidebar's group: the resource's folder name. */
  tag: string
  summary: string
  description?: string
  /** Each path parameter besides `:site`: what it names, and an example. */
  params?: Record<string, { description: string; example: string }>
  query?: z.ZodObject
  body?: { schema: z.ZodType; description?: string; examples: Examples; contentType?: string }
  ok: Answer
  /** Other successful answers, when there are (a chunk taken now, or queued). */
  otherAnswers?: Answer[]
  /** When this operation answers with these statuses: for 400, what it refuses besides a malformed request. */
  refusals?: Partial<Record<400 | 404 | 409 | 413, string>>
}

const SITE_PARAM = { description: 'The site id (not its public key)', example: 'demo' }

/** `/sites/:site/segments/:id` → `/sites/{site}/segments/{id}`. */
export const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

/** The names of a router path's parameters, in order. */
export const pathParams = (path: string) => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1])

/**
 * The statuses an operation may refuse with: 401 and 500 on all; 400 on those that read a body or a
 * query; 413 on those with a body (the 2 MB limit); 404 on those under a site; and what it adds.
 */
export function refusalsOf(op: Operation): Partial<Record<RefusalStatus, string>> {
  const shared: Partial<Record<RefusalStatus, string>> = { 401: REFUSALS[401].description }
  if (op.body || op.query) shared[400] = REFUSALS[400].description
  if (pathParams(op.path).length > 0) shared[404] = REFUSALS[404].description
  if (op.body) shared[413] = REFUSALS[413].description
  shared[500] = REFUSALS[500].description
  const own = op.refusals ?? {}
  return { ...shared, ...own, ...(own[400] ? { 400: [shared[400], own[400]].filter(Boolean).join('. ') } : {}) }
}

/**
 * The operation as @hono/zod-openapi's registry takes it: path parameters described, bodies and answers
 * with their schemas and examples, every refusal with the error body.
 *
 * @example
 * registry.registerPath(routeConfig({ id: 'listSites', method: 'get', path: '/sites', tag: 'sites', summary: 'List sites', ok: { status: 200, description: 'Every site' } }))
 */
export function routeConfig(op: Operation): RouteConfig {
  const names = pathParams(op.path)
  const params = names.length === 0 ? undefined : z.object(Object.fromEntries(names.map((name) => {
    const p = name === 'site' ? SITE_PARAM : op.params?.[name]
    if (!p) throw new Error(`${op.method.toUpperCase()} ${op.path}: describe the path parameter :${name}`)
    return [name, z.string().meta({ description: p.description, example: p.example })]
  })))
  const json = (schema: z.ZodType | undefined, examples: Examples | undefined, type = 'application/json') => ({
    content: { [type]: { ...(schema ? { schema } : {}), ...(examples ? { examples } : {}) } },
  })
  const responses: RouteConfig['responses'] = {}
  for (const a of [op.ok, ...(op.otherAnswers ?? [])]) {
    responses[a.status] = { description: a.description, ...(a.status === 204 ? {} : json(a.schema, a.examples, a.contentType)) }
  }
  for (const [status, description] of Object.entries(refusalsOf(op))) {
    responses[status] = { description, ...json(errorBody, REFUSALS[Number(status) as RefusalStatus].examples) }
  }
  return {
    method: op.method,
    path: openApiPath(op.path),
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    operationId: op.id,
    request: {
      ...(params ? { params } : {}),
      ...(op.query ? { query: op.query } : {}),
      ...(op.body ? { body: { required: true, ...(op.body.description ? { description: op.body.description } : {}), ...json(op.body.schema, op.body.examples, op.body.contentType) } } : {}),
    },
    responses,
  }
}
