/**
 * The console's workflow pages: the list, in the order the workflows run (changed by dragging a row, or
 * by its Move up and Move down buttons, which are plain forms), with what starts each workflow, its
 * schedule and a button to activate or pause it; and the workflow page, whose script (client/workflow/)
 * draws the graph on a canvas or as forms and saves it as JSON through `/save`.
 */
import { pickWinner, testReport } from '../workflows/tests'
import { workflowFlow } from '../workflows/flow'
import { type Context, Hono } from 'hono'
import { z } from 'zod'
import { allContent } from '../data/content'
import { allSegments } from '../data/segments'
import { type Workflow, getWorkflow } from '../data/workflows'
import { Refusal } from '../http/errors'
import { describeIssues, issuesOf, readJson } from '../http/validate'
import { workflowCreate, workflowOrder, workflowPatch } from '../workflows/schema'
import { allWorkflows, createWorkflow, moveWorkflow, removeWorkflow, reorderWorkflows, setWorkflowStatus, updateWorkflow } from '../workflows/service'
import { type Trigger } from '../workflows/types'
import { errorsOf, messageOf } from './forms'
import { Alert, Badge, Csrf, Notice, PageData, PageHeader, Table, type Tone } from './layout'
import { describeSchedule } from './schedule'
import { builderData } from './segments'
import { type ConsoleEnv } from './session'

function triggerText(t: Trigger, names: Map<string, string>): string {
  switch (t.type) {
    case 'page_visit':
      return t.url ? `Page visit where the URL ${t.url.op === 'eq' ? 'is' : t.url.op === 'startsWith' ? 'starts with' : 'contains'} ${t.url.value}` : 'Any page visit'
    case 'purchase':
      return 'A purchase'
    case 'identify':
      return 'An identify'
    case 'custom':
      return `Custom event ${t.name}`
    case 'contentSubmitted':
      return t.content ? `A form sent: ${t.content}` : 'A form sent'
    case 'segmentEntered':
      return `Entering ${names.get(t.segment) ?? t.segment}`
    case 'segmentLeft':
      return `Leaving ${names.get(t.segment) ?? t.segment}`
  }
}

/** The node a path of the workflow's JSON is in: `start.schedule.end` is the Start node's, `nodes.n2.segment` node n2's. */
function nodeOf(path: string): string | undefined {
  if (/^start(?:$|[.[])/.test(path)) return 'start'
  return /^(?:nodes|layout)\.([^.[]+)/.exec(path)?.[1]
}

/** A new workflow: a Start node on any page visit and no node yet (the canvas adds them). */
const BLANK = {
  name: '',
  start: { trigger: { type: 'page_visit' }, limitation: null },
  entry: '',
  nodes: {},
}

async function builder(c: Context<ConsoleEnv>, workflow?: Workflow) {
  const site = c.get('site')
  const [segments, content] = await Promise.all([allSegments(c.env.DB, site.id), allContent(c.env.DB, site.id)])
  const data = {
    ...builderData(site, segments),
    content: content.map((x) => ({ id: x.id, name: x.name })),
    workflow: workflow ? { id: workflow.id, name: workflow.name, status: workflow.status, ...workflow.graph, layout: workflow.layout } : BLANK,
    timeZone: site.timeZone,
    // The live view: contacts that passed each node and branch in the last 7 and 30 days (estimates).
    flow: workflow ? await workflowFlow(c.env, site, workflow.id) : null,
    saveUrl: `/admin/sites/${site.id}/workflows/save`,
    pageUrl: `/admin/sites/${site.id}/workflows/:id`,
  }
  const status: { text: string; tone: Tone } = !workflow ? { text: 'New', tone: 'muted' } : workflow.status === 'active' ? { text: 'Active', tone: 'ok' } : { text: 'Paused', tone: 'warn' }
  return c.render(
    <>
      <PageHeader
        title={workflow ? workflow.name : 'New workflow'}
        back={{ href: `/admin/sites/${site.id}/workflows`, label: 'Workflows' }}
        badge={<Badge tone={status.tone} id="wf-status">{status.text}</Badge>}
      >
        <button type="button" class="secondary" id="wf-status-action">{workflow?.status === 'active' ? 'Save and pause' : 'Save and activate'}</button>
        <button type="button" id="wf-save">Save</button>
      </PageHeader>
      <div id="workflow-app">
        <noscript>
          <p class="alert">The workflow editor needs JavaScript. The API (POST and PATCH /api/v1/sites/{site.id}/workflows) takes the same workflow as JSON.</p>
        </noscript>
      </div>
      <PageData id="workflow-data" data={data} />
    </>,
    { title: workflow ? workflow.name : 'New workflow', active: 'workflows', scripts: ['workflow'], styles: ['workflow'] },
  )
}

export const workflowRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const [workflows, segments] = await Promise.all([allWorkflows(c.env.DB, site.id), allSegments(c.env.DB, site.id)])
    const names = new Map(segments.map((s) => [s.id, s.name]))
    const csrf = c.get('session').csrf
    const notice = c.req.query('saved') ? 'Workflow saved.' : c.req.query('moved') ? 'Order saved.' : c.req.query('deleted') ? 'Workflow deleted.' : undefined
    return c.render(
      <>
        <PageHeader title="Workflows">
          <a class="button" href={`/admin/sites/${site.id}/workflows/new`}>Create workflow</a>
        </PageHeader>
        <Notice message={notice} />
        <Alert message={c.req.query('error')} />
        <p class="hint" id="order-hint">
          Workflows run in this order, from the top. When two workflows would show a popup or slide-in on the same page view, only the higher one
          shows. Drag a row, or use its Move up and Move down buttons, to change the order. Schedules are read in the site's time zone
          ({site.timeZone}).
        </p>
        <div class="alert" role="alert" id="order-error" hidden />
        <p class="hint" role="status" id="order-status" />
        <div id="workflow-order" data-order-url={`/admin/sites/${site.id}/workflows/order`}>
          <Table columns={[{ label: 'Order', num: true }, 'Name', 'Status', 'Starts on', 'Schedule', { label: 'Actions', hidden: true }]}
            empty="No workflows yet."
            emptyText="A workflow starts on a page visit, a purchase or another event, checks who the visitor is and shows them content. Draw one on the canvas."
            emptyAction={{ href: `/admin/sites/${site.id}/workflows/new`, label: 'Create workflow' }}
          >
            {workflows.map((w, i) => (
              <tr data-workflow={w.id} id={`wf-${w.id}`}>
                <td class="num order"><span class="handle" aria-hidden="true">⠿</span><span class="position">{i + 1}</span></td>
                <td>
                  <a href={`/admin/sites/${site.id}/workflows/${w.id}`}>{w.name}</a>
                  {Object.entries(w.graph.nodes).filter(([, n]) => n.type === 'abTest').map(([node]) => (
                    <> · <a href={`/admin/sites/${site.id}/workflows/${w.id}/tests/${node}`}>A/B test {node}</a></>
                  ))}
                </td>
                <td><span class={`badge ${w.status} ${w.status === 'active' ? 'ok' : 'warn'}`}>{w.status === 'active' ? 'Active' : 'Paused'}</span></td>
                <td>{triggerText(w.graph.start.trigger, names)}</td>
                <td class="schedule">{w.graph.start.schedule ? describeSchedule(w.graph.start.schedule) : 'Always'}</td>
                <td>
                  <div class="actions">
                    <form method="post" action={`/admin/sites/${site.id}/workflows/${w.id}/${w.status === 'active' ? 'pause' : 'activate'}`}>
                      <Csrf token={csrf} />
                      <button type="submit" class="secondary">{w.status === 'active' ? 'Pause' : 'Activate'}<span class="sr-only"> {w.name}</span></button>
                    </form>
                    <form method="post" action={`/admin/sites/${site.id}/workflows/${w.id}/move`} class="move">
                      <Csrf token={csrf} />
                      <button type="submit" class="secondary" name="direction" value="up" disabled={i === 0}>Move up<span class="sr-only"> {w.name}</span></button>
                      <button type="submit" class="secondary" name="direction" value="down" disabled={i === workflows.length - 1}>Move down<span class="sr-only"> {w.name}</span></button>
                    </form>
                  </div>
                </td>
              </tr>
            ))}
          </Table>
        </div>
      </>,
      { title: 'Workflows', active: 'workflows', picker: true, scripts: ['workflow-order'] },
    )
  })
  .post('/order', async (c) => {
    // The list's script, once a row is dropped: the whole order as JSON.
    try {
      const { ids } = await readJson(c, workflowOrder)
      const ordered = await reorderWorkflows(c.env.DB, c.get('site'), ids, c.get('changes'))
      return c.json({ ids: ordered.map((w) => w.id) })
    } catch (err) {
      return c.json({ error: { code: 'invalid_order', message: messageOf(err) } }, 400)
    }
  })
  .post('/:id/move', async (c) => {
    const site = c.get('site')
    const id = c.req.param('id')
    const direction = (await c.req.parseBody()).direction
    const back = `/admin/sites/${site.id}/workflows`
    if (direction !== 'up' && direction !== 'down') return c.redirect(`${back}?error=${encodeURIComponent('Move a workflow up or down')}`, 303)
    try {
      await moveWorkflow(c.env.DB, site, id, direction, c.get('changes'))
      return c.redirect(`${back}?moved=1#wf-${encodeURIComponent(id)}`, 303)
    } catch (err) {
      return c.redirect(`${back}?error=${encodeURIComponent(messageOf(err))}`, 303)
    }
  })
  .get('/new', (c) => builder(c))
  .post('/save', async (c) => {
    const site = c.get('site')
    // The API's door for JSON: malformed text, NUL and lone surrogates are refused as there.
    let body: { id?: string; name?: string; status?: unknown; start?: unknown; entry?: unknown; nodes?: unknown; layout?: unknown } | null
    try {
      body = (await readJson(c, z.unknown())) as typeof body
    } catch (err) {
      const message = err instanceof Refusal ? err.message : 'The workflow could not be read'
      return c.json({ error: { code: 'invalid_json', message } }, 400)
    }
    if (!body || typeof body !== 'object') return c.json({ error: { code: 'invalid_json', message: 'The workflow could not be read' } }, 400)
    // Each problem with its path, and the node of the first, so the editor outlines it and says why.
    const refused = (issues: readonly z.core.$ZodIssue[]) => {
      const list = issuesOf(issues).issues
      return c.json({ error: { code: 'invalid_workflow', message: describeIssues(issues), node: nodeOf(list[0]?.path ?? ''), issues: list } }, 400)
    }
    // "Save and activate" and "Save and pause" send the status too; Save alone keeps it.
    const status = body.status === undefined ? undefined : z.enum(['active', 'paused']).safeParse(body.status)
    if (status && !status.success) return c.json({ error: { code: 'invalid_workflow', message: 'status must be active or paused' } }, 400)
    const graph = { name: body.name, start: body.start, entry: body.entry, nodes: body.nodes, layout: body.layout }
    try {
      let saved: Workflow
      if (body.id) {
        const r = workflowPatch.safeParse(graph)
        if (!r.success) return refused(r.error.issues)
        saved = await updateWorkflow(c.env.DB, site, body.id, r.data, c.get('changes'), Date.now(), status?.data)
      } else {
        const r = workflowCreate.safeParse({ ...graph, status: status?.data })
        if (!r.success) return refused(r.error.issues)
        saved = await createWorkflow(c.env.DB, site, r.data, c.get('changes'))
      }
      return c.json({ id: saved.id, status: saved.status })
    } catch (err) {
      const e = errorsOf(err)
      return c.json({ error: { code: 'invalid_workflow', message: e.message ?? Object.values(e.fields)[0], node: e.node } }, 400)
    }
  })
  .get('/:id', async (c) => {
    const site = c.get('site')
    const workflow = await getWorkflow(c.env.DB, site.id, c.req.param('id'))
    if (!workflow) return c.notFound()
    return builder(c, workflow)
  })
  .post('/:id/:status{activate|pause}', async (c) => {
    const site = c.get('site')
    try {
      await setWorkflowStatus(c.env.DB, site, c.req.param('id'), c.req.param('status') === 'activate' ? 'active' : 'paused', c.get('changes'))
      return c.redirect(`/admin/sites/${site.id}/workflows?saved=1`, 303)
    } catch (err) {
      return c.redirect(`/admin/sites/${site.id}/workflows?error=${encodeURIComponent(messageOf(err))}`, 303)
    }
  })
  .get('/:id/tests/:node', async (c) => {
    const site = c.get('site')
    let report: Awaited<ReturnType<typeof testReport>>
    try {
      report = await testReport(c.env, site, c.req.param('id'), c.req.param('node'))
    } catch {
      return c.notFound()
    }
    const csrf = c.get('session').csrf
    const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)} %`)
    return c.render(
      <>
        <PageHeader title={`A/B test ${report.node}`} back={{ href: `/admin/sites/${site.id}/workflows/${report.workflow}`, label: 'Workflow' }} badge={report.winner ? <Badge tone="ok">Winner: {report.winner}</Badge> : <Badge tone="info">Running</Badge>} />
        <Notice message={c.req.query('picked') ? 'Winner picked: every contact now takes it.' : undefined} />
        <Alert message={c.req.query('error')} />
        <p class="hint">
          Conversions are {report.conversion.type === 'custom' ? `"${report.conversion.name}" events` : 'purchases'} within {report.attributionDays} days after a contact was first shown the test's content. The interval is a 95 % Wilson score
          interval; "chance to be best" comes from Beta posteriors of each variant's conversion rate.
          {report.winner ? ` The winner is ${report.winner}: every contact takes it.` : ''}
        </p>
        <Table columns={['Variant', { label: 'Exposed', num: true }, { label: 'Shown', num: true }, { label: 'Clicked', num: true }, { label: 'Closed', num: true }, { label: 'Conversions', num: true }, { label: 'Revenue', num: true }, 'Conversion rate', { label: 'Chance to be best', num: true }, { label: 'Actions', hidden: true }]} empty="No variants.">
          {report.variants.map((v) => (
            <tr data-variant={v.id}>
              <td>{v.name ?? v.id}{report.winner === v.id ? ' (winner)' : ''}</td>
              <td class="num">{v.exposed}</td>
              <td class="num">{v.shown}</td>
              <td class="num">{v.clicked}</td>
              <td class="num">{v.closed}</td>
              <td class="num">{v.conversions}</td>
              <td class="num">{v.revenue.toFixed(2)}</td>
              <td>{pct(v.conversionRate)}{v.interval ? ` (${pct(v.interval.low)}–${pct(v.interval.high)})` : ''}</td>
              <td class="num">{pct(v.probabilityBest)}</td>
              <td>
                {report.winner === null && (
                  <form method="post" action={`/admin/sites/${site.id}/workflows/${report.workflow}/tests/${report.node}/winner`}>
                    <Csrf token={csrf} />
                    <input type="hidden" name="variant" value={v.id} />
                    <button type="submit" class="secondary">Pick the winner<span class="sr-only"> {v.name ?? v.id}</span></button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </Table>
      </>,
      { title: `A/B test ${report.node}`, active: 'workflows' },
    )
  })
  .post('/:id/tests/:node/winner', async (c) => {
    const site = c.get('site')
    const back = `/admin/sites/${site.id}/workflows/${c.req.param('id')}/tests/${c.req.param('node')}`
    const form = await c.req.parseBody()
    try {
      await pickWinner(c.env, site, c.req.param('id'), c.req.param('node'), String(form.variant ?? ''), c.get('changes'))
      return c.redirect(`${back}?picked=1`, 303)
    } catch (err) {
      return c.redirect(`${back}?error=${encodeURIComponent(messageOf(err))}`, 303)
    }
  })
  .post('/:id/delete', async (c) => {
    const site = c.get('site')
    await removeWorkflow(c.env, site, c.req.param('id'), c.get('changes'))
    return c.redirect(`/admin/sites/${site.id}/workflows?deleted=1`, 303)
  })
