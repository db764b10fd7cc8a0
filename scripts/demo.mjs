/**
 * The demo site that `npm run dev` seeds: a record store with a "Millennials" dynamic segment, a
 * "VIP" static segment and a few contacts. Seeding goes through the admin API, so it takes the same
 * path (validation, backfill) as any site owner's changes, and running it twice changes nothing.
 */

export const DEMO_SITE = {
  id: 'demo',
  key: 'pk_demo_recordstore',
  name: 'Demo record store',
  allowedOrigins: ['http://localhost:8787', 'http://127.0.0.1:8787', 'http://localhost:8788', 'http://127.0.0.1:8788'],
  fields: [{ key: 'favouriteGenre', type: 'string', label: 'favourite genre' }],
  browserFields: ['firstName', 'birthDate', 'favouriteGenre'],
}

export const DEMO_SEGMENTS = [
  {
    id: 'seg_millennials',
    name: 'Millennials',
    description: 'Born between 1981 and 1996.',
    type: 'dynamic',
    conditions: { all: [{ field: 'birthDate', op: 'between', value: ['1981-01-01', '1996-12-31'] }] },
  },
  { id: 'seg_vip', name: 'VIP', description: 'Our best customers, picked by hand.', type: 'static' },
]

export const DEMO_CONTACTS = [
  { id: 'demo-ana', email: 'ana@example.com', fields: { firstName: 'Ana', lastName: 'García', birthDate: '1990-04-02', country: 'ES', favouriteGenre: 'rock' } },
  { id: 'demo-bob', email: 'bob@example.com', fields: { firstName: 'Bob', lastName: 'Smith', birthDate: '1970-09-15', country: 'GB', favouriteGenre: 'jazz' } },
  { id: 'demo-chen', email: 'chen@example.com', fields: { firstName: 'Chen', lastName: 'Wei', birthDate: '1985-12-01', country: 'FR' } },
]

async function call(base, token, method, path, body) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

/** Creates whatever part of the demo is missing. */
export async function seedDemo(base, token) {
  const site = await call(base, token, 'GET', `/sites/${DEMO_SITE.id}`)
  if (site.status === 404) await must(call(base, token, 'POST', '/sites', DEMO_SITE))
  const scoped = `/sites/${DEMO_SITE.id}`
  await must(call(base, token, 'POST', `${scoped}/contacts/batch`, { contacts: DEMO_CONTACTS }))
  for (const segment of DEMO_SEGMENTS) {
    const found = await call(base, token, 'GET', `${scoped}/segments/${segment.id}`)
    if (found.status === 404) await must(call(base, token, 'POST', `${scoped}/segments`, segment))
  }
  await must(call(base, token, 'PUT', `${scoped}/contacts/demo-bob/segments/seg_vip`))
}

async function must(pending) {
  const res = await pending
  if (res.status >= 400) throw new Error(`seeding the demo failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res
}
