/** The document's sites: worker/sites/routes.ts, with the schemas of worker/sites/schema.ts. */
import { z } from '@hono/zod-openapi'
import { siteCreate, siteMove, sitePatch } from '../sites/schema'
import { type Operation } from './operation'
import { instant, list } from './shapes'

const identitySecret = z
  .object({
    value: z.string().optional().meta({ description: 'The secret itself: only in the answer that creates the site or rotates it' }),
    createdAt: instant,
    endsWith: z.string().meta({ description: 'Its last four characters, to tell secrets apart' }),
  })
  .openapi('IdentitySecret', { description: "Signs identifies on the site's server (HMAC-SHA256); see docs/identity.md" })

const site = z
  .object({
    id: z.string(),
    key: z.string().meta({ description: 'The public key the script tag names in data-site' }),
    name: z.string(),
    allowedOrigins: z.array(z.string()),
    fields: siteCreate.shape.fields.unwrap(),
    browserFields: z.array(z.string()),
    identitySecret,
    trustUnsignedIdentify: z.boolean(),
    limits: z.object({ rate: z.enum(['strict', 'standard', 'relaxed']), eventBytes: z.number().int(), contactBytesPerDay: z.number().int() }),
    retention: z.object({ activityDays: z.number().int(), anonymousContactDays: z.number().int() }),
    timeZone: z.string(),
    fatigue: z.object({ perSession: z.number().int().nullable(), perDay: z.number().int().nullable() }),
    attributionDays: z.number().int(),
    conversion: siteCreate.shape.conversion.unwrap(),
    shards: z.array(z.string()).meta({ description: 'The data shards its contacts live on' }),
    movingTo: z.array(z.string()).optional().meta({ description: 'The shards it is moving to, while a move runs' }),
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('Site')

const SITE = {
  id: 'demo',
  key: 'pk_demo_recordstore',
  name: 'Demo record store',
  allowedOrigins: ['https://shop.example'],
  fields: [{ key: 'favouriteGenre', type: 'string', label: 'favourite genre' }],
  browserFields: ['firstName', 'birthDate', 'favouriteGenre'],
  identitySecret: { createdAt: '2026-11-20T09:30:00.000Z', endsWith: 'zxeq' },
  trustUnsignedIdentify: false,
  limits: { rate: 'relaxed', eventBytes: 4096, contactBytesPerDay: 262144 },
  retention: { activityDays: 396, anonymousContactDays: 396 },
  timeZone: 'Europe/Madrid',
  fatigue: { perSession: 1, perDay: null },
  attributionDays: 7,
  conversion: { type: 'purchase' },
  shards: ['SHARD_1', 'SHARD_2'],
  createdAt: '2026-11-20T09:30:00.000Z',
  updatedAt: '2026-11-21T16:02:11.000Z',
}

const NEW_SECRET = { value: 'idsec_w7q26t5uqdz0xf4vd7bykq89wc6qrgw5ypn4pbnv', createdAt: '2026-11-22T08:00:00.000Z', endsWith: 'pbnv' }

export const siteOperations: Operation[] = [
  {
    id: 'listSites',
    method: 'get',
    path: '/sites',
    tag: 'sites',
    summary: 'List sites',
    ok: { status: 200, description: 'Every site', schema: list(site), examples: { demo: { value: { items: [SITE] } } } },
  },
  {
    id: 'createSite',
    method: 'post',
    path: '/sites',
    tag: 'sites',
    summary: 'Create a site',
    description: 'The answer shows the identity secret once (`identitySecret.value`); keep it on the site\'s server.',
    body: {
      schema: siteCreate,
      examples: {
        shop: {
          value: { name: 'Shop', allowedOrigins: ['https://shop.example'], fields: [{ key: 'plan', type: 'string' }], browserFields: ['firstName', 'plan'] },
        },
        settings: {
          summary: 'With its own id, time zone, caps and retention',
          value: { id: 'shop', name: 'Shop', timeZone: 'Europe/Madrid', fatigue: { perSession: 1, perDay: 3 }, retention: { activityDays: 730 }, conversion: { type: 'custom', name: 'signup' } },
        },
      },
    },
    ok: { status: 201, description: 'The site, with its identity secret shown once', schema: site, examples: { created: { value: { ...SITE, identitySecret: NEW_SECRET } } } },
    refusals: { 409: 'A site with this id or key exists' },
  },
  {
    id: 'getSite',
    method: 'get',
    path: '/sites/:site',
    tag: 'sites',
    summary: 'Read a site',
    ok: { status: 200, description: 'The site', schema: site, examples: { demo: { value: SITE } } },
  },
  {
    id: 'updateSite',
    method: 'patch',
    path: '/sites/:site',
    tag: 'sites',
    summary: 'Update a site',
    description: 'Only what the body names changes.',
    body: {
      schema: sitePatch,
      examples: {
        retention: { summary: 'Keep activities two years', value: { retention: { activityDays: 730, anonymousContactDays: 90 } } },
        origins: { value: { allowedOrigins: ['https://shop.example', 'https://www.shop.example'] } },
      },
    },
    ok: { status: 200, description: 'The site as it is now', schema: site, examples: { demo: { value: SITE } } },
    refusals: { 409: "Another site has this key; a field's type cannot change, nor can a field a segment reads go; a retention shorter than a dynamic segment reads back" },
  },
  {
    id: 'rotateIdentitySecret',
    method: 'post',
    path: '/sites/:site/identity-secret',
    tag: 'sites',
    summary: "Rotate the site's identity secret",
    description: 'Identifies signed with the old secret are no longer believed.',
    ok: { status: 200, description: 'The new secret, shown once', schema: identitySecret, examples: { rotated: { value: NEW_SECRET } } },
  },
  {
    id: 'moveSite',
    method: 'post',
    path: '/sites/:site/move',
    tag: 'sites',
    summary: "Move the site's contacts to other shards",
    description: 'The move runs in the background through the queue; `movingTo` shows while it does, and contacts and segments cannot change until it ends (docs/scaling.md).',
    body: { schema: siteMove, examples: { spread: { summary: 'Spread over two shards', value: { shards: ['SHARD_1', 'SHARD_2'] } } } },
    ok: { status: 202, description: 'The move started', schema: site, examples: { moving: { value: { ...SITE, shards: ['SHARD_1'], movingTo: ['SHARD_1', 'SHARD_2'] } } } },
    refusals: { 400: 'Also a shard this deployment does not have, or the placement the site has already', 409: 'The site is moving already, or its placement changed meanwhile' },
  },
  {
    id: 'stopSiteMove',
    method: 'delete',
    path: '/sites/:site/move',
    tag: 'sites',
    summary: 'Call a move off',
    ok: { status: 200, description: 'The site, back on its shards', schema: site, examples: { stopped: { value: SITE } } },
    refusals: { 409: 'The site is not moving, or finished meanwhile' },
  },
]
