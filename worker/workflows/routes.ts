/**
 * The admin API's workflows, `/api/v1/sites/:site/workflows`: list, create, read, update and delete
 * workflows, put them in order, activate or pause one, read an A/B test's report and pick its winner.
 */
import { Hono } from 'hono'
import { type AppEnv } from '../app-env'
import { getWorkflow } from '../data/workflows'
import { notFound } from '../http/errors'
import { readJson } from '../http/validate'
import { winnerBody, workflowCreate, workflowOrder, workflowPatch } from './schema'
import { workflowFlow } from './flow'
import { pickWinner, testReport } from './tests'
import { allWorkflows, createWorkflow, removeWorkflow, reorderWorkflows, setWorkflowStatus, updateWorkflow, workflowJson } from './service'

export const workflowsRoutes = new Hono<AppEnv>()
  .get('/', async (c) => c.json({ items: (await allWorkflows(c.env.DB, c.get('site').id)).map(workflowJson) }))
  .post('/', async (c) => c.json(workflowJson(await createWorkflow(c.env.DB, c.get('site'), await readJson(c, workflowCreate), c.get('changes'))), 201))
  .put('/order', async (c) => {
    const { ids } = await readJson(c, workflowOrder)
    return c.json({ items: (await reorderWorkflows(c.env.DB, c.get('site'), ids, c.get('changes'))).map(workflowJson) })
  })
  .get('/:id', async (c) => {
    const workflow = await getWorkflow(c.env.DB, c.get('site').id, c.req.param('id'))
    if (!workflow) throw notFound('workflow', c.req.param('id'))
    return c.json(workflowJson(workflow))
  })
  .patch('/:id', async (c) => c.json(workflowJson(await updateWorkflow(c.env.DB, c.get('site'), c.req.param('id'), await readJson(c, workflowPatch), c.get('changes')))))
  .delete('/:id', async (c) => {
    await removeWorkflow(c.env, c.get('site'), c.req.param('id'), c.get('changes'))
    return c.body(null, 204)
  })
  .post('/:id/activate', async (c) => c.json(workflowJson(await setWorkflowStatus(c.env.DB, c.get('site'), c.req.param('id'), 'active', c.get('changes')))))
  .post('/:id/pause', async (c) => c.json(workflowJson(await setWorkflowStatus(c.env.DB, c.get('site'), c.req.param('id'), 'paused', c.get('changes')))))
  .get('/:id/tests/:node', async (c) => c.json(await testReport(c.env, c.get('site'), c.req.param('id'), c.req.param('node'))))
  .get('/:id/flow', async (c) => c.json(await workflowFlow(c.env, c.get('site'), c.req.param('id'))))
  .post('/:id/tests/:node/winner', async (c) => {
    const { variant } = await readJson(c, winnerBody)
    return c.json(workflowJson(await pickWinner(c.env, c.get('site'), c.req.param('id'), c.req.param('node'), variant, c.get('changes'))))
  })
