/**
 * The document's contacts: worker/contacts/routes.ts. A contact's body is checked by its service with
 * `contactInput` (a batch's rows one by one, so that every refused row is reported), an import's events
 * with `eventSchema`: the document shows those schemas where the route reads the envelope.
 */
import { z } from '@hono/zod-openapi'
import { ACTIVITY_TYPES } from '../conditions/types'
import { MAX_BATCH, contactId, contactInput, contactPatch, eventSchema } from '../contacts/schema'
import { MAX_IMPORT } from '../contacts/service'
import { type Operation } from './operation'
import { instant, list, page, pageQuery } from './shapes'

const MEMBER_SOURCES = ['manual', 'workflow', 'rule'] as const

export const contact = z
  .object({
    id: z.string(),
    email: z.string().nullable(),
    externalId: z.string().nullable(),
    claimedEmail: z.string().nullable().meta({ description: 'An email an unsigned identify claimed: unverified' }),
    claimedExternalId: z.string().nullable().meta({ description: 'An external id an unsigned identify claimed: unverified' }),
    fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    createdAt: instant,
    lastSeenAt: instant.nullable(),
  })
  .openapi('Contact')

const membership = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(['static', 'dynamic']),
    since: instant,
    source: z.enum(MEMBER_SOURCES).meta({ description: 'Who put the contact in: an admin (manual), a workflow, or the conditions (rule)' }),
  })
  .openapi('Membership')

const otherIdentifier = z.object({ kind: z.enum(['email', 'externalId']), value: z.string(), verified: z.boolean(), since: instant })

const activity = z
  .object({
    id: z.string(),
    type: z.enum(ACTIVITY_TYPES),
    at: instant,
    url: z.string().optional(),
    title: z.string().optional(),
    referrer: z.string().optional(),
    name: z.string().optional(),
    contentId: z.string().optional(),
    orderId: z.string().optional(),
    amount: z.number().optional(),
    currency: z.string().optional(),
    props: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('Activity')

const contactExport = z.object({
  exportedAt: instant,
  site: z.object({ id: z.string(), name: z.string() }),
  contact,
  otherIdentifiers: z.array(otherIdentifier),
  segments: z.array(membership),
  limitationCounters: z.array(z.object({ node: z.string(), runs: z.number().int(), lastRunAt: instant })),
  mergedContacts: z.array(z.looseObject({ id: z.string(), mergedAt: instant })),
  activities: z.array(activity),
})

const CONTACT = {
  id: 'demo-ana',
  email: 'ana@example.com',
  externalId: null,
  claimedEmail: null,
  claimedExternalId: null,
  fields: { firstName: 'Ana', lastName: 'García', birthDate: '1990-04-02', country: 'ES' },
  createdAt: '2026-11-20T10:02:00.000Z',
  lastSeenAt: '2026-11-21T18:00:00.000Z',
}
const ZOE = {
  ...CONTACT,
  id: 'zoe',
  email: 'zoe@example.com',
  fields: { firstName: 'Zoe', birthDate: '1993-07-21' },
  createdAt: '2026-11-22T08:00:00.000Z',
  lastSeenAt: null,
}
const MEMBERSHIPS = [
  { id: 'seg_millennials', name: 'Millennials', type: 'dynamic', since: '2026-11-20T10:02:00.000Z', source: 'rule' },
  { id: 'seg_vip', name: 'VIP', type: 'static', since: '2026-11-21T09:00:00.000Z', source: 'manual' },
]
const ACTIVITIES = [
  { id: 'crm-p1', type: 'purchase', orderId: 'o-1', currency: 'EUR', at: '2026-11-21T18:00:00.000Z', amount: 24.9 },
  { id: 'crm-v1', type: 'page_visit', url: 'https://shop.example/rock/1', at: '2026-11-20T10:00:00.000Z' },
]
const NEW_EVENTS = [
  { id: 'crm-v1', type: 'page_visit', url: 'https://shop.example/rock/1', at: '2026-11-20T10:00:00Z' },
  { id: 'crm-p1', type: 'purchase', orderId: 'o-1', amount: 24.9, currency: 'EUR', at: '2026-11-21T18:00:00Z' },
]

const ID = { description: 'The contact id', example: 'demo-ana' }
const SEGMENT = { description: 'The id of a static segment', example: 'seg_vip' }
const MOVING = 'The site is moving to other shards: its contacts cannot change until it has arrived'

export const contactOperations: Operation[] = [
  {
    id: 'searchContacts',
    method: 'get',
    path: '/sites/:site/contacts',
    tag: 'contacts',
    summary: 'Search contacts',
    description: 'By email, name, id or external id; newest first.',
    query: pageQuery.extend({ q: z.string().trim().max(200).optional().meta({ description: 'Words to look for' }) }),
    ok: { status: 200, description: 'A page of contacts', schema: page(contact), examples: { ana: { value: { items: [CONTACT], nextCursor: null } } } },
  },
  {
    id: 'createContact',
    method: 'post',
    path: '/sites/:site/contacts',
    tag: 'contacts',
    summary: 'Create a contact',
    description: "Fields are checked against the site's fields (system ones and those it declares); an id is made when none is given.",
    body: {
      schema: contactInput,
      examples: { zoe: { value: { id: 'zoe', email: 'zoe@example.com', fields: { firstName: 'Zoe', birthDate: '1993-07-21' } } } },
    },
    ok: { status: 201, description: 'The contact', schema: contact, examples: { zoe: { value: ZOE } } },
    refusals: { 409: `A contact has this id, email or external id. ${MOVING}` },
  },
  {
    id: 'upsertContacts',
    method: 'post',
    path: '/sites/:site/contacts/batch',
    tag: 'contacts',
    summary: 'Create or update contacts in a batch',
    description: `Up to ${MAX_BATCH.toLocaleString('en')} a request, matched by id, then external id, then email; all or nothing. A refusal lists every refused row (\`error.rows\`).`,
    body: {
      schema: z.object({ contacts: z.array(contactInput).min(1).max(MAX_BATCH) }),
      examples: { two: { summary: 'A new contact, and Ana updated', value: { contacts: [{ email: 'new@example.com', externalId: 'crm-42' }, { id: 'demo-ana', fields: { country: 'PT' } }] } } },
    },
    ok: {
      status: 200,
      description: 'What each row did',
      schema: z.object({
        created: z.number().int(),
        updated: z.number().int(),
        contacts: z.array(z.object({ index: z.number().int(), id: z.string(), created: z.boolean() })),
      }),
      examples: { two: { value: { created: 1, updated: 1, contacts: [{ index: 0, id: 'c_9pf0dl5jor4ysgrz', created: true }, { index: 1, id: 'demo-ana', created: false }] } } },
    },
    refusals: { 409: MOVING, 413: `Over ${MAX_BATCH.toLocaleString('en')} contacts, or a body over 2 MB` },
  },
  {
    id: 'getContact',
    method: 'get',
    path: '/sites/:site/contacts/:id',
    tag: 'contacts',
    summary: 'Read a contact',
    description: 'With its segments and the identifiers it keeps besides its own (from merges and signed identifies).',
    params: { id: ID },
    ok: {
      status: 200,
      description: 'The contact',
      schema: contact.extend({ otherIdentifiers: z.array(otherIdentifier), segments: z.array(membership) }),
      examples: { ana: { value: { ...CONTACT, otherIdentifiers: [], segments: MEMBERSHIPS } } },
    },
  },
  {
    id: 'updateContact',
    method: 'patch',
    path: '/sites/:site/contacts/:id',
    tag: 'contacts',
    summary: 'Update a contact',
    description: 'Only the fields named change; `null` clears one.',
    params: { id: ID },
    body: { schema: contactPatch, examples: { country: { value: { fields: { country: 'PT', lastName: null } } } } },
    ok: {
      status: 200,
      description: 'The contact, with its segments as they are now',
      schema: contact.extend({ segments: z.array(membership) }),
      examples: { ana: { value: { ...CONTACT, fields: { ...CONTACT.fields, country: 'PT' }, segments: MEMBERSHIPS } } },
    },
    refusals: { 409: `Another contact has this email or external id. ${MOVING}` },
  },
  {
    id: 'eraseContact',
    method: 'delete',
    path: '/sites/:site/contacts/:id',
    tag: 'contacts',
    summary: 'Erase a contact everywhere',
    description: 'Its row, activities, memberships, counters and identifiers, in D1 and at the edge, at once; browsers that held it become new visitors.',
    params: { id: ID },
    ok: { status: 204, description: 'Erased' },
    refusals: { 409: MOVING },
  },
  {
    id: 'mergeContact',
    method: 'post',
    path: '/sites/:site/contacts/:id/merge',
    tag: 'contacts',
    summary: 'Merge a contact into another',
    description: 'The contact named by `into` keeps its values, takes this one\'s where it has none, and keeps every email and external id of both.',
    params: { id: { description: 'The contact merged away', example: 'zoe-old' } },
    body: { schema: z.strictObject({ into: contactId }), examples: { zoe: { value: { into: 'zoe' } } } },
    ok: {
      status: 200,
      description: 'The contact merged into, with its segments',
      schema: contact.extend({ segments: z.array(membership) }),
      examples: { zoe: { value: { ...ZOE, segments: MEMBERSHIPS.slice(0, 1) } } },
    },
    refusals: { 400: 'Also a contact merged into itself', 404: 'No such site, contact, or contact to merge into', 409: MOVING },
  },
  {
    id: 'exportContact',
    method: 'get',
    path: '/sites/:site/contacts/:id/export',
    tag: 'contacts',
    summary: 'Export everything kept about a contact',
    description: 'One JSON document, as an attachment, for a data-access request.',
    params: { id: ID },
    ok: {
      status: 200,
      description: 'Everything kept about the contact',
      schema: contactExport,
      examples: {
        ana: {
          value: {
            exportedAt: '2026-11-22T08:00:00.000Z',
            site: { id: 'demo', name: 'Demo record store' },
            contact: CONTACT,
            otherIdentifiers: [],
            segments: MEMBERSHIPS,
            limitationCounters: [],
            mergedContacts: [],
            activities: ACTIVITIES,
          },
        },
      },
    },
  },
  {
    id: 'listContactActivities',
    method: 'get',
    path: '/sites/:site/contacts/:id/events',
    tag: 'contacts',
    summary: "List a contact's activities",
    description: 'Newest first.',
    params: { id: ID },
    query: pageQuery,
    ok: { status: 200, description: 'A page of activities', schema: page(activity), examples: { ana: { value: { items: ACTIVITIES, nextCursor: null } } } },
  },
  {
    id: 'importContactActivities',
    method: 'post',
    path: '/sites/:site/contacts/:id/events',
    tag: 'contacts',
    summary: 'Import past activities',
    description: `Up to ${MAX_IMPORT.toLocaleString('en')} a request, from another system; an event id already stored is skipped, so a repeated import is harmless. A refusal lists every refused event (\`error.events\`).`,
    params: { id: ID },
    body: { schema: z.object({ events: z.array(eventSchema).min(1).max(MAX_IMPORT) }), examples: { crm: { value: { events: NEW_EVENTS } } } },
    ok: {
      status: 200,
      description: 'How many were stored, and how many were there already',
      schema: z.object({ received: z.number().int(), stored: z.number().int(), duplicates: z.number().int() }),
      examples: { crm: { value: { received: 2, stored: 2, duplicates: 0 } } },
    },
    refusals: { 409: MOVING, 413: `Over ${MAX_IMPORT.toLocaleString('en')} events, or a body over 2 MB` },
  },
  {
    id: 'listContactSegments',
    method: 'get',
    path: '/sites/:site/contacts/:id/segments',
    tag: 'contacts',
    summary: "List a contact's segments",
    params: { id: ID },
    ok: { status: 200, description: 'Its segments, with since and source', schema: list(membership), examples: { ana: { value: { items: MEMBERSHIPS } } } },
  },
  {
    id: 'addContactToSegment',
    method: 'put',
    path: '/sites/:site/contacts/:id/segments/:segment',
    tag: 'contacts',
    summary: 'Add a contact to a static segment',
    params: { id: ID, segment: SEGMENT },
    ok: { status: 200, description: "The contact's segments now", schema: list(membership), examples: { ana: { value: { items: MEMBERSHIPS } } } },
    refusals: { 409: `The segment is dynamic: its members follow its conditions. ${MOVING}` },
  },
  {
    id: 'removeContactFromSegment',
    method: 'delete',
    path: '/sites/:site/contacts/:id/segments/:segment',
    tag: 'contacts',
    summary: 'Remove a contact from a static segment',
    params: { id: ID, segment: SEGMENT },
    ok: { status: 200, description: "The contact's segments now", schema: list(membership), examples: { ana: { value: { items: MEMBERSHIPS.slice(0, 1) } } } },
    refusals: { 409: `The segment is dynamic: its members follow its conditions. ${MOVING}` },
  },
  {
    id: 'explainMembership',
    method: 'get',
    path: '/sites/:site/contacts/:id/segments/:segment/explain',
    tag: 'contacts',
    summary: 'Explain why a contact is in a segment or not',
    description: 'For a dynamic segment, each condition met or not, with the value it was compared with.',
    params: { id: ID, segment: { description: 'The segment id', example: 'seg_millennials' } },
    ok: {
      status: 200,
      description: 'The explanation',
      schema: z.object({
        segment: z.object({ id: z.string(), name: z.string(), type: z.enum(['static', 'dynamic']) }),
        contact: z.string(),
        member: z.boolean(),
        since: instant.nullable(),
        source: z.enum(MEMBER_SOURCES).nullable(),
        met: z.boolean(),
        summary: z.string().nullable(),
        conditions: z
          .looseObject({ met: z.boolean(), group: z.enum(['all', 'any', 'none']).optional(), children: z.array(z.unknown()).optional() })
          .nullable()
          .meta({ description: 'The tree of conditions, each node with `met`, a clause with the `actual` value compared; null for a static segment' }),
      }),
      examples: {
        millennial: {
          value: {
            segment: { id: 'seg_millennials', name: 'Millennials', type: 'dynamic' },
            contact: 'demo-ana',
            member: true,
            since: '2026-11-20T10:02:00.000Z',
            source: 'rule',
            met: true,
            summary: 'born between 1981-01-01 and 1996-12-31',
            conditions: {
              met: true,
              group: 'all',
              children: [
                {
                  met: true,
                  clause: { field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] },
                  actual: '1990-04-02',
                  summary: 'born between 1981-01-01 and 1996-12-31',
                },
              ],
              summary: 'born between 1981-01-01 and 1996-12-31',
            },
          },
        },
      },
    },
  },
]
