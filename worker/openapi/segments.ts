/** The document's segments: worker/segments/routes.ts, with the schemas of worker/segments/schema.ts. */
import { z } from '@hono/zod-openapi'
import { conditionTree } from '../conditions/schema'
import { segmentCreate, segmentListQuery, segmentPatch, segmentPreview, trendQuery } from '../segments/schema'
import { TREND_DAYS } from '../segments/trends'
import { contact } from './contacts'
import { type Operation } from './operation'
import { instant, page, pageQuery } from './shapes'

const MILLENNIALS = { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] }
const ROCK_FANS = {
  all: [
    { activity: 'page_visit', where: { field: 'url', op: 'contains', value: '/rock' }, count: { op: 'gte', value: 3 }, within: '30d' },
    { none: [{ segment: 'seg_vip', op: 'in' }] },
  ],
}

// The condition tree is checked by code (a tree of groups and clauses, each chosen by its key) that JSON
// Schema cannot show; the same schema object is described here, in zod's registry, which the generator reads.
if (!z.globalRegistry.has(conditionTree)) {
  z.globalRegistry.add(conditionTree, {
    type: 'object',
    description:
      'A tree of conditions: an `all`, `any` or `none` group of clauses and nested groups. A clause tests a field (`{ "field", "op", "value" }`), an activity (`{ "activity", "where", "count" | "sum" | "avg" | "first" | "last", "within" }`) or membership of another segment (`{ "segment", "op": "in" | "notIn" }`). At most 8 levels and 100 clauses; every field must be one the site has. docs/conditions.md is the full reference.',
    examples: [MILLENNIALS, ROCK_FANS],
  })
}

const backfill = z
  .object({ added: z.number().int(), removed: z.number().int(), ms: z.number() })
  .meta({ description: "What recomputing a dynamic segment's members over every contact changed" })

const segment = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    type: z.enum(['static', 'dynamic']),
    conditions: conditionTree.nullable(),
    summary: z.string().nullable().meta({ description: 'The conditions in plain words' }),
    members: z.number().int(),
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('Segment')

const SEGMENT = {
  id: 'seg_millennials',
  name: 'Millennials',
  description: 'Born between 1981 and 1996.',
  type: 'dynamic',
  conditions: MILLENNIALS,
  summary: 'born between 1981-01-01 and 1996-12-31',
  members: 2,
  createdAt: '2026-11-20T09:30:00.000Z',
  updatedAt: '2026-11-20T09:30:00.000Z',
}
const VIP = { ...SEGMENT, id: 'seg_vip', name: 'VIP', description: 'Our best customers, picked by hand.', type: 'static', conditions: null, summary: null, members: 12 }
const ANA = {
  id: 'demo-ana',
  email: 'ana@example.com',
  externalId: null,
  claimedEmail: null,
  claimedExternalId: null,
  fields: { firstName: 'Ana', lastName: 'García', birthDate: '1990-04-02', country: 'ES' },
  createdAt: '2026-11-20T09:30:00.000Z',
  lastSeenAt: null,
}

const ID = { description: 'The segment id', example: 'seg_millennials' }
const MOVING = 'The site is moving to other shards: its segments cannot change until it has arrived'

export const segmentOperations: Operation[] = [
  {
    id: 'listSegments',
    method: 'get',
    path: '/sites/:site/segments',
    tag: 'segments',
    summary: 'List segments',
    description: 'By name, with member counts.',
    query: segmentListQuery,
    ok: { status: 200, description: 'A page of segments', schema: page(segment), examples: { demo: { value: { items: [SEGMENT, VIP], nextCursor: null } } } },
  },
  {
    id: 'createSegment',
    method: 'post',
    path: '/sites/:site/segments',
    tag: 'segments',
    summary: 'Create a segment',
    description: "A dynamic segment's members are computed over every contact before the answer (`backfill`).",
    body: {
      schema: segmentCreate,
      examples: {
        dynamic: { summary: 'Dynamic: born 1981–1996', value: { id: 'seg_millennials', name: 'Millennials', type: 'dynamic', conditions: MILLENNIALS } },
        activity: { summary: 'Dynamic: visited rock pages 3 times in 30 days, not VIP', value: { name: 'Rock fans', type: 'dynamic', conditions: ROCK_FANS } },
        static: { summary: 'Static: members added by hand or by workflows', value: { id: 'seg_vip', name: 'VIP', type: 'static' } },
      },
    },
    ok: {
      status: 201,
      description: 'The segment, with what its backfill did (dynamic segments)',
      schema: segment.extend({ backfill: backfill.optional() }),
      examples: { dynamic: { value: { ...SEGMENT, backfill: { added: 2, removed: 0, ms: 8 } } } },
    },
    refusals: { 409: `A segment with this id or name exists. ${MOVING}` },
  },
  {
    id: 'previewSegment',
    method: 'post',
    path: '/sites/:site/segments/preview',
    tag: 'segments',
    summary: 'Preview unsaved conditions',
    description: 'How many contacts meet them now, a sample of the most recently seen, and the conditions in plain words. Nothing is written.',
    body: { schema: segmentPreview, examples: { millennials: { value: { conditions: MILLENNIALS, sample: 1 } } } },
    ok: {
      status: 200,
      description: 'The count and a sample',
      schema: z.object({ count: z.number().int(), sample: z.array(contact), summary: z.string().nullable() }),
      examples: { millennials: { value: { count: 2, sample: [ANA], summary: 'born between 1981-01-01 and 1996-12-31' } } },
    },
  },
  {
    id: 'getSegment',
    method: 'get',
    path: '/sites/:site/segments/:id',
    tag: 'segments',
    summary: 'Read a segment',
    params: { id: ID },
    ok: { status: 200, description: 'The segment', schema: segment, examples: { millennials: { value: SEGMENT } } },
  },
  {
    id: 'updateSegment',
    method: 'patch',
    path: '/sites/:site/segments/:id',
    tag: 'segments',
    summary: 'Update a segment',
    description: 'New conditions recompute its members, and those of the segments that read it, before the answer.',
    params: { id: ID },
    body: {
      schema: segmentPatch,
      examples: { conditions: { value: { conditions: { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1998-12-31'] }] } } } },
    },
    ok: {
      status: 200,
      description: 'The segment, with what its backfill did',
      schema: segment.extend({ backfill: backfill.optional() }),
      examples: { widened: { value: { ...SEGMENT, members: 3, backfill: { added: 1, removed: 0, ms: 6 } } } },
    },
    refusals: { 409: `Another segment has this name. ${MOVING}` },
  },
  {
    id: 'deleteSegment',
    method: 'delete',
    path: '/sites/:site/segments/:id',
    tag: 'segments',
    summary: 'Delete a segment',
    params: { id: ID },
    ok: { status: 204, description: 'Deleted' },
    refusals: { 409: `A segment or a workflow uses it (\`error.usedBy\`). ${MOVING}` },
  },
  {
    id: 'listSegmentMembers',
    method: 'get',
    path: '/sites/:site/segments/:id/contacts',
    tag: 'segments',
    summary: "List a segment's members",
    params: { id: ID },
    query: pageQuery,
    ok: {
      status: 200,
      description: 'A page of members, each with since and source',
      schema: page(contact.extend({ since: instant, source: z.enum(['manual', 'workflow', 'rule']) })),
      examples: { millennials: { value: { items: [{ ...ANA, since: '2026-11-20T09:30:00.000Z', source: 'rule' }], nextCursor: null } } },
    },
  },
  {
    id: 'getSegmentTrend',
    method: 'get',
    path: '/sites/:site/segments/:id/trend',
    tag: 'segments',
    summary: "Read a segment's trend and uses",
    description: `Its member count each day (UTC; null for a day the cron did not count), with the contacts that entered and left it that day, for the last \`days\` days (today included, ${TREND_DAYS} at most); and the workflows (with the nodes) and segments that read it.`,
    params: { id: ID },
    query: trendQuery,
    ok: {
      status: 200,
      description: 'The trend, oldest day first, and what reads the segment',
      schema: z.object({
        segment: z.string(),
        days: z.array(z.object({ date: z.iso.date(), members: z.number().int().nullable(), entered: z.number().int(), exited: z.number().int() })),
        usedBy: z.object({
          segments: z.array(z.object({ id: z.string(), name: z.string() })),
          workflows: z.array(z.object({ id: z.string(), name: z.string(), nodes: z.array(z.string()).meta({ description: 'The nodes that read it; `start` for its trigger or limitation' }) })),
        }),
      }),
      examples: {
        millennials: {
          value: {
            segment: 'seg_millennials',
            days: [
              { date: '2026-11-20', members: 2, entered: 2, exited: 0 },
              { date: '2026-11-21', members: 3, entered: 1, exited: 0 },
              { date: '2026-11-22', members: null, entered: 0, exited: 0 },
            ],
            usedBy: { segments: [], workflows: [{ id: 'wf_album_of_the_week', name: 'Album of the week', nodes: ['segment'] }] },
          },
        },
      },
    },
  },
]
