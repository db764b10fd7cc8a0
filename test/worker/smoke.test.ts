import { exports } from 'cloudflare:workers'
import { expect, it } from 'vitest'

it('answers', async () => {
  const res = await exports.default.fetch('http://x/api/v1/sites', { headers: { authorization: 'Bearer test-admin-token' } })
  expect(res.status).toBe(200)
  console.log(await res.json())
})
