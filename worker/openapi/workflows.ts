/** The document's workflows: worker/workflows/routes.ts, with the schemas of worker/workflows/schema.ts. */
import { z } from '@hono/zod-openapi'
import { winnerBody, workflowCreate, workflowOrder, workflowPatch } from '../workflows/schema'
import { type Operation } from './operation'
import { instant, list } from './shapes'

/** A workflow as stored and answered: what was sent, with its id, place in the order and times. */
const workflow = workflowCreate
  .extend({ id: z.string(), priority: z.number().int().meta({ description: 'Its place in the order workflows run in: smaller first' }), createdAt: instant, updatedAt: instant })
  .openapi('Workflow')

const passed = z.object({ last7: z.number().int(), last30: z.number().int() }).meta({ description: 'Distinct contacts in the last 7 and 30 days (estimates)' })

const interval = z.object({ low: z.number(), high: z.number() })

const testReport = z.object({
  workflow: z.string(),
  node: z.string(),
  winner: z.string().nullable(),
  attributionDays: z.number().int(),
  conversion: z.object({ type: z.enum(['purchase', 'custom']), name: z.string().optional() }),
  variants: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullable(),
      weight: z.number(),
      exposed: z.number().int(),
      shown: z.number().int(),
      clicked: z.number().int(),
      closed: z.number().int(),
      conversions: z.number().int(),
      revenue: z.number(),
      conversionRate: z.number().nullable(),
      interval: interval.nullable().meta({ description: "The conversion rate's 95 % Wilson score interval" }),
      probabilityBest: z.number(),
      lift: z.number().nullable().meta({ description: 'Against the first variant (the control): 0.1 is 10 % better' }),
    }),
  ),
})

const ALBUM = {
  id: 'wf_album_of_the_week',
  name: 'Album of the week',
  status: 'active',
  start: { trigger: { type: 'page_visit' }, limitation: null },
  entry: 'segment',
  nodes: {
    segment: { type: 'isInSegment', segment: 'seg_millennials', yes: 'rock', no: 'jazz', limitation: { cooldown: '1d' } },
    rock: { type: 'showContent', content: 'rock' },
    jazz: { type: 'showContent', content: 'jazz' },
  },
}
const ALBUM_STORED = { ...ALBUM, priority: 0, createdAt: '2026-11-20T09:30:00.000Z', updatedAt: '2026-11-20T09:30:00.000Z' }
const WELCOME = {
  id: 'wf_welcome_buyers',
  name: 'Welcome buyers',
  status: 'active',
  priority: 1,
  start: { trigger: { type: 'purchase' }, limitation: null },
  entry: 'add',
  nodes: { add: { type: 'addToSegment', segment: 'seg_buyers' } },
  createdAt: '2026-11-20T09:31:00.000Z',
  updatedAt: '2026-11-20T09:31:00.000Z',
}

const ID = { description: 'The workflow id', example: 'wf_album_of_the_week' }
const NODE = { description: 'The id of an A/B test node of the workflow', example: 'rockTest' }
const INVALID_GRAPH = "Also a graph that does not run as drawn: a cycle, a dangling reference, a missing entry, a segment or content the site does not have (`error.node` names the node at fault)"

export const workflowOperations: Operation[] = [
  {
    id: 'listWorkflows',
    method: 'get',
    path: '/sites/:site/workflows',
    tag: 'workflows',
    summary: 'List workflows',
    description: 'In the order they run.',
    ok: { status: 200, description: 'Every workflow of the site', schema: list(workflow), examples: { demo: { value: { items: [ALBUM_STORED, WELCOME] } } } },
  },
  {
    id: 'createWorkflow',
    method: 'post',
    path: '/sites/:site/workflows',
    tag: 'workflows',
    summary: 'Create a workflow',
    description: 'A Start node (a trigger and an optional limitation) and a graph of nodes from `entry`. It is paused unless `status` says otherwise, and runs last unless `priority` says otherwise.',
    body: {
      schema: workflowCreate,
      examples: {
        album: { summary: 'Millennials get rock, everyone else jazz; once a day at most', value: ALBUM },
        abTest: {
          summary: 'An A/B test of two popups',
          value: {
            name: 'Rock test',
            start: { trigger: { type: 'page_visit', url: { op: 'startsWith', value: 'https://shop.example/albums/' } } },
            entry: 'test',
            nodes: {
              test: { type: 'abTest', variants: [{ id: 'classic', weight: 1, next: 'rock' }, { id: 'bold', weight: 1, next: 'bold' }] },
              rock: { type: 'showContent', content: 'rock' },
              bold: { type: 'showContent', content: 'rock-bold' },
            },
          },
        },
      },
    },
    ok: { status: 201, description: 'The workflow', schema: workflow, examples: { album: { value: ALBUM_STORED } } },
    refusals: { 400: INVALID_GRAPH, 409: 'A workflow with this id exists' },
  },
  {
    id: 'orderWorkflows',
    method: 'put',
    path: '/sites/:site/workflows/order',
    tag: 'workflows',
    summary: 'Put the workflows in order',
    description: 'Names every workflow of the site once, in the order they are to run (priorities 0, 1, 2…); an unknown, missing or repeated id is refused and nothing changes.',
    body: { schema: workflowOrder, examples: { demo: { value: { ids: ['wf_welcome_buyers', 'wf_album_of_the_week'] } } } },
    ok: {
      status: 200,
      description: 'The workflows in their new order',
      schema: list(workflow),
      examples: { demo: { value: { items: [{ ...WELCOME, priority: 0 }, { ...ALBUM_STORED, priority: 1 }] } } },
    },
  },
  {
    id: 'getWorkflow',
    method: 'get',
    path: '/sites/:site/workflows/:id',
    tag: 'workflows',
    summary: 'Read a workflow',
    params: { id: ID },
    ok: { status: 200, description: 'The workflow', schema: workflow, examples: { album: { value: ALBUM_STORED } } },
  },
  {
    id: 'updateWorkflow',
    method: 'patch',
    path: '/sites/:site/workflows/:id',
    tag: 'workflows',
    summary: 'Update a workflow',
    description: 'Only what the body names changes; the graph is checked whole.',
    params: { id: ID },
    body: { schema: workflowPatch, examples: { rename: { value: { name: 'Album of the week (EU)' } } } },
    ok: { status: 200, description: 'The workflow as it is now', schema: workflow, examples: { album: { value: { ...ALBUM_STORED, name: 'Album of the week (EU)' } } } },
    refusals: { 400: INVALID_GRAPH },
  },
  {
    id: 'deleteWorkflow',
    method: 'delete',
    path: '/sites/:site/workflows/:id',
    tag: 'workflows',
    summary: 'Delete a workflow',
    params: { id: ID },
    ok: { status: 204, description: 'Deleted' },
  },
  {
    id: 'activateWorkflow',
    method: 'post',
    path: '/sites/:site/workflows/:id/activate',
    tag: 'workflows',
    summary: 'Switch a workflow on',
    params: { id: ID },
    ok: { status: 200, description: 'The workflow, active', schema: workflow, examples: { album: { value: ALBUM_STORED } } },
  },
  {
    id: 'pauseWorkflow',
    method: 'post',
    path: '/sites/:site/workflows/:id/pause',
    tag: 'workflows',
    summary: 'Switch a workflow off',
    params: { id: ID },
    ok: { status: 200, description: 'The workflow, paused', schema: workflow, examples: { album: { value: { ...ALBUM_STORED, status: 'paused' } } } },
  },
  {
    id: 'getWorkflowTest',
    method: 'get',
    path: '/sites/:site/workflows/:id/tests/:node',
    tag: 'workflows',
    summary: "Read an A/B test's report",
    description: 'Per variant: contacts exposed, content shown, clicked and closed, conversions and revenue, with the conversion rate, its interval, the probability to be best and the lift (docs/campaigns.md).',
    params: { id: ID, node: NODE },
    ok: {
      status: 200,
      description: 'The report',
      schema: testReport,
      examples: {
        rockTest: {
          value: {
            workflow: 'wf_album_of_the_week',
            node: 'rockTest',
            winner: null,
            attributionDays: 7,
            conversion: { type: 'purchase' },
            variants: [
              { id: 'classic', name: 'Classic', weight: 1, exposed: 480, shown: 471, clicked: 52, closed: 380, conversions: 24, revenue: 597.6, conversionRate: 0.05, interval: { low: 0.0338, high: 0.0733 }, probabilityBest: 0.21, lift: null },
              { id: 'bold', name: 'Bold', weight: 1, exposed: 502, shown: 496, clicked: 71, closed: 369, conversions: 34, revenue: 846.6, conversionRate: 0.0677, interval: { low: 0.0488, high: 0.0933 }, probabilityBest: 0.79, lift: 0.354 },
            ],
          },
        },
      },
    },
    refusals: { 404: 'No such site or workflow, or the node is not an A/B test' },
  },
  {
    id: 'pickWorkflowTestWinner',
    method: 'post',
    path: '/sites/:site/workflows/:id/tests/:node/winner',
    tag: 'workflows',
    summary: "Pick an A/B test's winner",
    description: 'From then on every contact takes that variant, and no more exposures are counted.',
    params: { id: ID, node: NODE },
    body: { schema: winnerBody, examples: { bold: { value: { variant: 'bold' } } } },
    ok: { status: 200, description: 'The workflow, with the winner on its test node', schema: workflow, examples: { album: { value: ALBUM_STORED } } },
    refusals: { 400: 'Also a variant that is not one of the test\'s', 404: 'No such site or workflow, or the node is not an A/B test' },
  },
  {
    id: 'getWorkflowFlow',
    method: 'get',
    path: '/sites/:site/workflows/:id/flow',
    tag: 'workflows',
    summary: "Read a workflow's live view",
    description: 'Contacts that entered the workflow, reached each node and left it by each branch (yes, no, next, a variant id), in the last 7 and 30 days.',
    params: { id: ID },
    ok: {
      status: 200,
      description: 'The live view',
      schema: z.object({ workflow: z.string(), start: passed, nodes: z.record(z.string(), passed.extend({ branches: z.record(z.string(), passed) })) }),
      examples: {
        album: {
          value: {
            workflow: 'wf_album_of_the_week',
            start: { last7: 120, last30: 410 },
            nodes: {
              segment: { last7: 120, last30: 410, branches: { yes: { last7: 48, last30: 170 }, no: { last7: 72, last30: 240 } } },
              rock: { last7: 48, last30: 170, branches: {} },
              jazz: { last7: 72, last30: 240, branches: {} },
            },
          },
        },
      },
    },
  },
]
