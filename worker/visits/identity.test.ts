/**
 * Identify signatures (made as docs/identity.md shows, bound to kind, value and secret, good for ten
 * minutes), and where a verified identifier or an unverified claim takes a browser's contact.
 */
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SIGNATURE_MAX_AGE_S, SIGNATURE_SKEW_S, checkIdentify, checkSignature, claimStep, signIdentity, verifiedStep } from './identity'
import { type Snapshot } from './snapshot'

const SECRET = 'idsec_0123456789abcdefghijklmnopqrstuvwxyz0123'
const NOW = Date.UTC(2026, 10, 29, 12)
const ana = { kind: 'email', value: 'ana@example.com' } as const

const snap = (id: string, f: Snapshot['f'] = {}): Snapshot => ({ v: 1, id, f, m: {}, a: {}, x: [], k: {} })
const owners = (map: Record<string, string>) => async (id: { value: string }) => map[id.value]

describe('signatures', () => {
  it('accepts a signature made as docs/identity.md shows a Node.js server making it', async () => {
    const t = Math.floor(NOW / 1000)
    const signature = `${t}.${createHmac('sha256', SECRET).update(`${t}.email.ana@example.com`).digest('hex')}`
    expect(await checkSignature(SECRET, ana, signature, NOW)).toBe('valid')
    expect(signature).toBe(await signIdentity(SECRET, ana, NOW))
  })

  it('binds the signature to the kind of identifier, the value and the secret', async () => {
    const signature = await signIdentity(SECRET, ana, NOW)
    expect(await checkSignature(SECRET, { kind: 'externalId', value: 'ana@example.com' }, signature, NOW)).toBe('mismatch')
    expect(await checkSignature(SECRET, { kind: 'email', value: 'bob@example.com' }, signature, NOW)).toBe('mismatch')
    expect(await checkSignature(`${SECRET}x`, ana, signature, NOW)).toBe('mismatch')
    expect(await checkSignature(SECRET, ana, signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')), NOW)).toBe('mismatch')
  })

  it('is good for ten minutes, and from five minutes before it was made', async () => {
    const signature = await signIdentity(SECRET, ana, NOW)
    expect(await checkSignature(SECRET, ana, signature, NOW + SIGNATURE_MAX_AGE_S * 1000)).toBe('valid')
    expect(await checkSignature(SECRET, ana, signature, NOW + (SIGNATURE_MAX_AGE_S + 1) * 1000)).toBe('expired')
    expect(await checkSignature(SECRET, ana, signature, NOW - SIGNATURE_SKEW_S * 1000)).toBe('valid')
    expect(await checkSignature(SECRET, ana, signature, NOW - (SIGNATURE_SKEW_S + 1) * 1000)).toBe('expired')
  })

  it('sorts an identify\'s identifiers into verified and claimed', async () => {
    const site = { identitySecret: SECRET, trustUnsignedIdentify: false }
    const signature = await signIdentity(SECRET, ana, NOW)
    expect(await checkIdentify(site, { email: 'ana@example.com', signature }, NOW)).toEqual({ verified: [ana], claimed: [] })
    expect(await checkIdentify(site, { email: 'ana@example.com' }, NOW)).toEqual({ verified: [], claimed: [ana] })
    expect(await checkIdentify(site, { email: 'ana@example.com', signature: signature.replace(/^\d+/, '1') }, NOW)).toMatchObject({ verified: [], claimed: [ana], refused: 'expired' })
    expect(await checkIdentify({ ...site, trustUnsignedIdentify: true }, { email: 'ana@example.com', externalId: 'u1' }, NOW)).toEqual({
      verified: [{ kind: 'externalId', value: 'u1' }, ana],
      claimed: [],
    })
  })
})

describe('where a verified identifier leads', () => {
  it('stays on a contact that already holds it, without a lookup', async () => {
    const lookup = async () => {
      throw new Error('no lookup needed')
    }
    expect(await verifiedStep(snap('c1', { email: 'ana@example.com' }), ana, lookup)).toEqual({ to: 'self' })
  })

  it('merges an anonymous contact into the contact that holds it', async () => {
    expect(await verifiedStep(snap('c_anon'), ana, owners({ 'ana@example.com': 'demo-ana' }))).toEqual({ to: 'merge', owner: 'demo-ana' })
  })

  it('switches a known contact to the contact that holds it, never merging two known contacts', async () => {
    expect(await verifiedStep(snap('demo-bob', { email: 'bob@example.com' }), ana, owners({ 'ana@example.com': 'demo-ana' }))).toEqual({ to: 'owner', owner: 'demo-ana' })
    expect(await verifiedStep(snap('u7', { externalId: 'user-7' }), ana, owners({ 'ana@example.com': 'demo-ana' }))).toEqual({ to: 'owner', owner: 'demo-ana' })
  })

  it('gives an identifier nobody holds to the contact, unless it is already someone else', async () => {
    expect(await verifiedStep(snap('c_anon'), ana, owners({}))).toEqual({ to: 'self', attach: ana })
    expect(await verifiedStep(snap('u7', { externalId: 'user-7' }), ana, owners({}))).toEqual({ to: 'self', attach: ana })
    expect(await verifiedStep(snap('demo-bob', { email: 'bob@example.com' }), ana, owners({}))).toEqual({ to: 'new', attach: ana })
  })
})

describe('where an unverified claim leads', () => {
  it('stays a claim on the browser\'s own contact', () => {
    expect(claimStep(snap('c_anon'), [ana])).toEqual({ to: 'self', claims: [ana] })
    expect(claimStep(snap('u7', { externalId: 'user-7' }), [ana])).toEqual({ to: 'self', claims: [ana] })
  })

  it('changes nothing when it repeats what the contact is known to be', () => {
    expect(claimStep(snap('demo-ana', { email: 'ana@example.com' }), [ana])).toEqual({ to: 'self', claims: [] })
  })

  it('switches a known contact to a new anonymous one when it contradicts it', () => {
    expect(claimStep(snap('demo-bob', { email: 'bob@example.com' }), [ana])).toEqual({ to: 'new', claims: [ana] })
  })
})
