/**
 * Seeds the demo site that `npm run dev` serves: a record store with the "Millennials" dynamic segment,
 * "VIP" and "Buyers" static segments, a rock and a jazz popup, the "Album of the week" and "Welcome
 * buyers" workflows and a few contacts. Seeding goes through the admin API, so it takes the same path
 * (validation, backfill, publishing to the edge) as any site owner's changes; running it twice changes
 * nothing.
 */
import demo from './demo-data.json' with { type: 'json' }

export { demo }

async function call(base, token, method, path, body) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status >= 400 && res.status !== 404) throw new Error(`seeding the demo failed: ${method} ${path} → ${res.status} ${text}`)
  return res.status
}

/** Creates whatever part of the demo is missing. */
export async function seedDemo(base, token) {
  const scoped = `/sites/${demo.site.id}`
  const missing = async (path) => (await call(base, token, 'GET', path)) === 404
  if (await missing(scoped)) await call(base, token, 'POST', '/sites', demo.site)
  await call(base, token, 'POST', `${scoped}/contacts/batch`, { contacts: demo.contacts })
  for (const segment of demo.segments) if (await missing(`${scoped}/segments/${segment.id}`)) await call(base, token, 'POST', `${scoped}/segments`, segment)
  for (const content of demo.content) if (await missing(`${scoped}/content/${content.id}`)) await call(base, token, 'POST', `${scoped}/content`, content)
  for (const workflow of demo.workflows) if (await missing(`${scoped}/workflows/${workflow.id}`)) await call(base, token, 'POST', `${scoped}/workflows`, workflow)
  for (const [contact, segment] of demo.memberships) await call(base, token, 'PUT', `${scoped}/contacts/${contact}/segments/${segment}`)
}
