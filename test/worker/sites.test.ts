/**
 * The admin API's sites, as an admin sees them through /api/v1: creation, keys, allowed origins, custom and
 * browser fields, the identity secret shown only once, and the changes it refuses.
 */
import { describe, expect, it } from 'vitest'
import { api } from './fixtures'

describe('sites', () => {
  it('creates a site with a generated key and lists and gets it', async () => {
    const created = await api('POST', '/sites', { name: 'Shop', allowedOrigins: ['https://shop.example'] })
    expect(created.status).toBe(201)
    const site = await created.json<{ id: string; key: string }>()
    expect(site.key).toMatch(/^pk_[a-z0-9]{20}$/)
    expect((await (await api('GET', `/sites/${site.id}`)).json())).toMatchObject({ name: 'Shop', allowedOrigins: ['https://shop.example'] })
    const list = await (await api('GET', '/sites')).json<{ items: { id: string }[] }>()
    expect(list.items.map((s) => s.id)).toContain(site.id)
  })

  it('shows a new site\'s identity secret once, in the answer that made it', async () => {
    const created = await (await api('POST', '/sites', { id: 'secretive', name: 'Secretive' })).json<{ identitySecret: { value: string; endsWith: string }; trustUnsignedIdentify: boolean }>()
    expect(created.identitySecret.value).toMatch(/^idsec_[a-z0-9]{40}$/)
    expect(created.identitySecret.endsWith).toBe(created.identitySecret.value.slice(-4))
    expect(created.trustUnsignedIdentify).toBe(false)
    const again = await (await api('GET', '/sites/secretive')).text()
    const list = await (await api('GET', '/sites')).text()
    for (const text of [again, list]) expect(text).not.toContain(created.identitySecret.value)
    expect((await api('PATCH', '/sites/secretive', { trustUnsignedIdentify: 'yes' })).status).toBe(400)
    expect((await api('PATCH', '/sites/secretive', { identitySecret: 'idsec_mine' })).status).toBe(400)
  })

  it('updates name, origins, fields and browser fields', async () => {
    await api('POST', '/sites', { id: 'upd', name: 'Before' })
    const res = await api('PATCH', '/sites/upd', {
      name: 'After',
      allowedOrigins: ['http://localhost:3000'],
      fields: [{ key: 'plan', type: 'string' }],
      browserFields: ['firstName', 'plan'],
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ name: 'After', fields: [{ key: 'plan', type: 'string' }], browserFields: ['firstName', 'plan'] })
  })

  it('refuses origins with a path, duplicate fields, and browser fields it does not know', async () => {
    for (const body of [
      { name: 'x', allowedOrigins: ['https://shop.example/path'] },
      { name: 'x', fields: [{ key: 'a', type: 'string' }, { key: 'a', type: 'number' }] },
      { name: 'x', fields: [{ key: 'birthDate', type: 'string' }] },
      { name: 'x', browserFields: ['shoeSize'] },
      { name: 'x', browserFields: ['createdAt'] },
      { name: '' },
    ]) {
      const res = await api('POST', '/sites', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
    }
  })

  it('refuses to change the type of a field that holds values', async () => {
    await api('POST', '/sites', { id: 'typed', name: 'Typed', fields: [{ key: 'plan', type: 'string' }] })
    const res = await api('PATCH', '/sites/typed', { fields: [{ key: 'plan', type: 'number' }] })
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ error: { code: 'field_type_locked' } })
  })

  it('refuses to remove a field a segment uses, naming the segment', async () => {
    await api('POST', '/sites', { id: 'inuse', name: 'In use', fields: [{ key: 'plan', type: 'string' }] })
    await api('POST', '/sites/inuse/segments', { name: 'Pro plan', type: 'dynamic', conditions: { all: [{ field: 'plan', op: 'eq', value: 'pro' }] } })
    const res = await api('PATCH', '/sites/inuse', { fields: [] })
    expect(res.status).toBe(409)
    expect((await res.json<{ error: { message: string } }>()).error.message).toContain('Pro plan')
  })

  it('refuses a site id or key that is taken', async () => {
    await api('POST', '/sites', { id: 'dupe', key: 'pk_dupe_key_1', name: 'A' })
    expect((await api('POST', '/sites', { id: 'dupe', name: 'B' })).status).toBe(409)
    expect((await api('POST', '/sites', { key: 'pk_dupe_key_1', name: 'C' })).status).toBe(409)
  })

  it('answers 404 for a site that does not exist, on every scoped route', async () => {
    for (const path of ['/sites/nope', '/sites/nope/segments', '/sites/nope/contacts']) {
      const res = await api('GET', path)
      expect(res.status).toBe(404)
      expect(await res.json()).toMatchObject({ error: { code: 'site_not_found' } })
    }
  })
})
