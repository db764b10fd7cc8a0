/** The document's content: worker/content/routes.ts, with the schemas of worker/content/schema.ts. */
import { z } from '@hono/zod-openapi'
import { contentCreate, contentPatch } from '../content/schema'
import { type Operation } from './operation'
import { instant, list } from './shapes'

/** Content as stored and answered: what was sent, completed (defaults filled in, HTML sanitized). */
const content = contentCreate.extend({ id: z.string(), createdAt: instant, updatedAt: instant }).openapi('Content')

const ROCK_INPUT = {
  id: 'rock',
  name: 'Rock album',
  format: 'popup',
  title: 'Rock album of the week',
  body: '<p><strong>Neon Static</strong> by The Late Arrivals: loud guitars, louder choruses.</p>',
  cta: { label: 'Listen now', url: 'https://shop.example/albums/neon-static' },
}
const ROCK = {
  ...ROCK_INPUT,
  display: { on: 'immediately' },
  position: 'center',
  backdropCloses: true,
  createdAt: '2026-11-20T09:30:00.000Z',
  updatedAt: '2026-11-20T09:30:00.000Z',
}

const ID = { description: 'The content id', example: 'rock' }

export const contentOperations: Operation[] = [
  {
    id: 'listContent',
    method: 'get',
    path: '/sites/:site/content',
    tag: 'content',
    summary: 'List content',
    ok: { status: 200, description: 'Every popup, slide-in, bar and inline block of the site', schema: list(content), examples: { demo: { value: { items: [ROCK] } } } },
  },
  {
    id: 'createContent',
    method: 'post',
    path: '/sites/:site/content',
    tag: 'content',
    summary: 'Create content',
    description: 'A popup, slide-in, bar or inline block. HTML bodies are sanitized to an allow-list; tokens such as `{{firstName | "there"}}` are filled in per visitor (docs/content.md).',
    body: {
      schema: contentCreate,
      examples: {
        popup: { value: ROCK_INPUT },
        form: {
          summary: 'An inline sign-up form',
          value: {
            name: 'Newsletter sign-up',
            format: 'inline',
            selector: '#newsletter',
            title: 'Weekly picks for {{firstName | "you"}}',
            form: {
              fields: [{ key: 'email', label: 'Email', type: 'email', required: true }],
              consent: { text: 'Send me the weekly picks.', required: true },
              submit: 'Subscribe',
            },
            neverAfterSubmitted: true,
          },
        },
        bar: { summary: 'A bar after 30 seconds, weekdays only', value: { name: 'Free shipping', format: 'bar', title: 'Free shipping this week', display: { on: 'delay', ms: 30000 }, schedule: { weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '18:00' }] } } },
      },
    },
    ok: { status: 201, description: 'The content as stored', schema: content, examples: { popup: { value: ROCK } } },
    refusals: { 409: 'Content with this id exists' },
  },
  {
    id: 'getContent',
    method: 'get',
    path: '/sites/:site/content/:id',
    tag: 'content',
    summary: 'Read content',
    params: { id: ID },
    ok: { status: 200, description: 'The content', schema: content, examples: { popup: { value: ROCK } } },
  },
  {
    id: 'updateContent',
    method: 'patch',
    path: '/sites/:site/content/:id',
    tag: 'content',
    summary: 'Update content',
    description: 'Only what the body names changes.',
    params: { id: ID },
    body: { schema: contentPatch, examples: { title: { value: { title: 'Rock album of the month' } } } },
    ok: { status: 200, description: 'The content as stored now', schema: content, examples: { popup: { value: { ...ROCK, title: 'Rock album of the month' } } } },
  },
  {
    id: 'deleteContent',
    method: 'delete',
    path: '/sites/:site/content/:id',
    tag: 'content',
    summary: 'Delete content',
    params: { id: ID },
    ok: { status: 204, description: 'Deleted' },
    refusals: { 409: 'A workflow shows it (`error.usedBy`)' },
  },
]
