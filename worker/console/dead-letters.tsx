/**
 * Messages the queue could not write, or wrote only in part: what each was, why, and a way to replay a
 * held one once its cause is fixed, or to dismiss it.
 */
import { Hono } from 'hono'
import { deadLettersOf } from '../data/dead-letters'
import { dismissDeadLetter, replayDeadLetter } from '../dead-letters/service'
import { encodeCursor } from '../lib/cursor'
import { cursorOf, messageOf } from './forms'
import { Alert, Badge, Csrf, EmptyState, Notice, PageHeader, when } from './layout'
import { type ConsoleEnv } from './session'

const NOTICES: Record<string, string> = {
  replayed: 'Sent back to the queue: if it fails again, it comes back here.',
  dismissed: 'Dismissed.',
}

export const deadLetterRoutes = new Hono<ConsoleEnv>()
  .get('/', async (c) => {
    const site = c.get('site')
    const before = cursorOf(c.req.query('cursor'), 2) as [number, string] | undefined
    const page = await deadLettersOf(c.env.DB, site.id, { before, limit: 25 })
    const csrf = c.get('session').csrf
    const base = `/admin/sites/${site.id}/dead-letters`
    return c.render(
      <>
        <PageHeader title="Messages not written" back={{ href: `/admin/sites/${site.id}`, label: 'Overview' }} />
        <Notice message={NOTICES[c.req.query('notice') ?? '']} />
        <Alert message={c.req.query('error')} />
        <p class="hint">
          Visits the queue could not write to the database. <strong>Held</strong> ones were not written at all: fix the
          cause (the reason says what D1 refused), then replay them. <strong>Partly written</strong> ones are in, without
          what is listed; read and dismiss them.
        </p>
        {page.items.length === 0 && (
          <div class="card">
            <EmptyState title="Nothing here: every message was written.">
              A message the queue cannot write comes here, with what D1 refused, to be replayed or dismissed.
            </EmptyState>
          </div>
        )}
        {page.items.map((d) => (
          <div class="card" data-dead-letter={d.id}>
            <p class="letter-head">
              <Badge tone={d.outcome === 'held' ? 'warn' : 'info'}>{d.outcome}</Badge>
              <strong>{d.kind}</strong> {d.contactId && <>of <a href={`/admin/sites/${site.id}/contacts/${d.contactId}`}>{d.contactId}</a></>}{' '}
              <span class="hint">{when(d.createdAt)}</span>
            </p>
            <p>{d.reason}</p>
            <details>
              <summary>The message</summary>
              <pre data-visitor-text>{JSON.stringify(d.body, null, 2)}</pre>
            </details>
            <div class="button-row">
              {d.outcome === 'held' && (
                <form method="post" action={`${base}/${d.id}/replay`}>
                  <Csrf token={csrf} />
                  <button type="submit">Replay<span class="sr-only"> message {d.id}</span></button>
                </form>
              )}
              <form method="post" action={`${base}/${d.id}/dismiss`}>
                <Csrf token={csrf} />
                <button type="submit" class="secondary">Dismiss<span class="sr-only"> message {d.id}</span></button>
              </form>
            </div>
          </div>
        ))}
        {page.last && <p><a href={`?cursor=${encodeCursor(page.last)}`}>Older messages</a></p>}
      </>,
      { title: 'Messages not written', active: 'overview' },
    )
  })
  .post('/:id/replay', async (c) => {
    const base = `/admin/sites/${c.get('site').id}/dead-letters`
    try {
      await replayDeadLetter(c.env, c.get('site'), c.req.param('id'))
      return c.redirect(`${base}?notice=replayed`, 303)
    } catch (err) {
      return c.redirect(`${base}?error=${encodeURIComponent(messageOf(err))}`, 303)
    }
  })
  .post('/:id/dismiss', async (c) => {
    const base = `/admin/sites/${c.get('site').id}/dead-letters`
    try {
      await dismissDeadLetter(c.env.DB, c.get('site'), c.req.param('id'))
      return c.redirect(`${base}?notice=dismissed`, 303)
    } catch (err) {
      return c.redirect(`${base}?error=${encodeURIComponent(messageOf(err))}`, 303)
    }
  })
