/**
 * The decisions of `npm run deploy` on the repository's own wrangler.toml and on wrangler's output as it
 * prints it: what the Worker needs, what an account lacks, the config it deploys with, the Access vars and
 * the secrets, held to the Worker's own rules.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { secretProblems, MIN_SECRET_CHARS as WORKER_MIN_SECRET_CHARS } from '../worker/http/secrets'
import { d1Databases } from './databases.mjs'
import {
  MIN_SECRET_CHARS,
  REQUIRED_SECRETS,
  accessVars,
  d1List,
  deployConfig,
  deploymentNeeds,
  exampleSecrets,
  keptVars,
  kvList,
  missingResources,
  queueExists,
  secretNames,
  secretProblem,
} from './deploy-plan.mjs'
import { tomlTables } from './wrangler-toml.mjs'

const toml = readFileSync(new URL('../wrangler.toml', import.meta.url), 'utf8')
const examples = exampleSecrets(readFileSync(new URL('../.dev.vars.example', import.meta.url), 'utf8'))

const ID = {
  segue: '7b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
  shard1: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  shard2: '9f8e7d6c-5b4a-4f3e-8d2c-1b0a9f8e7d6c',
  kv: '0f2ac74b498b48028cb68387c421e279',
}

// As wrangler 4 prints them (a warning line first, as it sometimes prints one).
const D1_LIST = `▲ [WARNING] You are using a new version of wrangler's D1 list output.
[
  {
    "uuid": "${ID.segue}",
    "name": "segue",
    "created_at": "2026-05-01T10:00:00.000Z",
    "version": "production",
    "num_tables": 14,
    "file_size": 221184
  },
  {
    "uuid": "${ID.shard1}",
    "name": "segue-shard-1",
    "created_at": "2026-05-01T10:00:02.000Z",
    "version": "production",
    "num_tables": 14,
    "file_size": 114688
  },
  {
    "uuid": "0d0d0d0d-0d0d-4d0d-8d0d-0d0d0d0d0d0d",
    "name": "another-project",
    "created_at": "2025-01-01T00:00:00.000Z",
    "version": "production",
    "num_tables": 2,
    "file_size": 12288
  }
]
`
const KV_LIST = `[
  {
    "id": "${ID.kv}",
    "title": "segue",
    "supports_url_encoding": true
  },
  {
    "id": "aa11bb22cc33dd44ee55ff6677889900",
    "title": "segue-preview",
    "supports_url_encoding": true
  }
]
`
const QUEUE_INFO = `Queue Name: segue-events
Queue ID: 2a7c1e3b9d8f4a6c8e0b1d2f3a4c5e6f
Created On: 2026-05-01T10:00:05.000Z
Last Modified: 2026-05-01T10:00:05.000Z
Number of Producers: 1
Producers: worker:segue
Number of Consumers: 1
Consumers: worker:segue
`
const QUEUE_MISSING = `
✘ [ERROR] Queue "segue-events-dead" does not exist. To create it, run: wrangler queues create segue-events-dead
`
const NOT_SIGNED_IN = `
✘ [ERROR] In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work. Please go to https://developers.cloudflare.com/fundamentals/api/get-started/create-token/ for instructions on how to create an api token, and assign its value to CLOUDFLARE_API_TOKEN.
`
const WORKER_NOT_FOUND = `
✘ [ERROR] Worker "segue" not found.

  If this is a new Worker, run \`wrangler deploy\` first to create it.
  Otherwise, check that the Worker name is correct and you're logged into the right account.
`

const everything = {
  databases: new Map([['segue', ID.segue], ['segue-shard-1', ID.shard1], ['segue-shard-2', ID.shard2]]),
  kvNamespaces: new Map([['segue', ID.kv]]),
  queues: new Set(['segue-events', 'segue-events-dead']),
}
const accessOff = { ACCESS_TEAM_DOMAIN: '', ACCESS_AUD: '' }

describe('what the Worker needs on the account', () => {
  it('reads the Worker, its control database and two shards, the KV namespace and both queues from wrangler.toml', () => {
    const needs = deploymentNeeds(toml)
    expect(needs.name).toBe('segue')
    expect(needs.databases.map((d) => [d.binding, d.database_name])).toEqual([['DB', 'segue'], ['SHARD_1', 'segue-shard-1'], ['SHARD_2', 'segue-shard-2']])
    expect(needs.kvNamespaces).toEqual([{ binding: 'KV', title: 'segue' }])
    expect(needs.queues).toEqual(['segue-events', 'segue-events-dead'])
  })
})

describe("reading wrangler's output", () => {
  it('finds the databases and namespaces by name in the JSON lists, whatever is printed before them', () => {
    expect(d1List(D1_LIST).get('segue-shard-1')).toBe(ID.shard1)
    expect(d1List(D1_LIST).has('segue-shard-2')).toBe(false)
    expect(kvList(KV_LIST).get('segue')).toBe(ID.kv)
    expect(() => d1List('✘ [ERROR] Authentication error [code: 10000]')).toThrow(/cannot read the output of wrangler d1 list/)
  })

  it('tells a queue that exists from one that does not, and refuses to guess when wrangler could not ask', () => {
    expect(queueExists('segue-events', { status: 0, output: QUEUE_INFO })).toBe(true)
    expect(queueExists('segue-events-dead', { status: 1, output: QUEUE_MISSING })).toBe(false)
    expect(() => queueExists('segue-events', { status: 1, output: NOT_SIGNED_IN })).toThrow(/cannot tell whether the queue segue-events exists/)
  })

  it("lists the Worker's secrets, none for a Worker not deployed yet, and refuses other failures", () => {
    const listed = `[\n  {\n    "name": "ADMIN_TOKEN",\n    "type": "secret_text"\n  }\n]\n`
    expect(secretNames({ status: 0, output: listed })).toEqual(new Set(['ADMIN_TOKEN']))
    expect(secretNames({ status: 1, output: WORKER_NOT_FOUND })).toEqual(new Set())
    expect(() => secretNames({ status: 1, output: NOT_SIGNED_IN })).toThrow(/wrangler secret list failed/)
  })
})

describe('what is missing', () => {
  const needs = deploymentNeeds(toml)

  it('is everything on an empty account', () => {
    expect(missingResources(needs, { databases: new Map(), kvNamespaces: new Map(), queues: new Set() })).toEqual({
      databases: ['segue', 'segue-shard-1', 'segue-shard-2'],
      kvNamespaces: ['segue'],
      queues: ['segue-events', 'segue-events-dead'],
    })
  })

  it('is only what the account lacks, found by name (another project’s database is left alone)', () => {
    const account = {
      databases: d1List(D1_LIST),
      kvNamespaces: kvList(KV_LIST),
      queues: new Set(needs.queues.filter((q) => queueExists(q, q === 'segue-events' ? { status: 0, output: QUEUE_INFO } : { status: 1, output: QUEUE_MISSING }))),
    }
    expect(missingResources(needs, account)).toEqual({ databases: ['segue-shard-2'], kvNamespaces: [], queues: ['segue-events-dead'] })
  })

  it('is nothing once everything exists: a second deploy creates nothing', () => {
    expect(missingResources(needs, everything)).toEqual({ databases: [], kvNamespaces: [], queues: [] })
  })
})

describe('the generated config (wrangler.deploy.toml)', () => {
  const vars = { ACCESS_TEAM_DOMAIN: 'https://acme.cloudflareaccess.com', ACCESS_AUD: '4714c1358e65fe4b' }
  const generated = deployConfig(toml, everything, vars)

  it("puts the account's ids in every D1 and KV block and this deployment's values in [vars]", () => {
    expect(d1Databases(generated).map((d) => [d.binding, d.database_id])).toEqual([['DB', ID.segue], ['SHARD_1', ID.shard1], ['SHARD_2', ID.shard2]])
    expect(tomlTables(generated, '[[kv_namespaces]]')[0].values).toEqual({ binding: 'KV', id: ID.kv })
    expect(keptVars(generated)).toEqual(vars)
  })

  it('is wrangler.toml otherwise, line for line, under a note saying where it comes from', () => {
    const [note, body] = [generated.slice(0, generated.indexOf('\n\n') + 2), generated.slice(generated.indexOf('\n\n') + 2)]
    expect(note).toMatch(/^# Generated by `npm run deploy` from wrangler.toml/)
    const ours = body.split('\n')
    const theirs = toml.split('\n')
    expect(ours.length).toBe(theirs.length)
    const changed = theirs.flatMap((line, i) => (line === ours[i] ? [] : [line.split('=')[0].trim()]))
    expect(changed).toEqual(['ACCESS_TEAM_DOMAIN', 'ACCESS_AUD', 'database_id', 'database_id', 'database_id', 'id'])
  })

  it('writes Access off as empty vars, names what wrangler.toml names, and refuses an account without an id', () => {
    expect(keptVars(deployConfig(toml, everything, accessOff))).toEqual(accessOff)
    const named = (text: string) => {
      const { name, databases, kvNamespaces, queues } = deploymentNeeds(text)
      return { name, databases: databases.map((d) => [d.binding, d.database_name, d.migrations_dir]), kvNamespaces, queues }
    }
    expect(named(generated)).toEqual(named(toml))
    const lacking = { ...everything, databases: new Map([['segue', ID.segue]]) }
    expect(() => deployConfig(toml, lacking, accessOff)).toThrow(/no D1 database named segue-shard-1/)
  })

  it('adds a database_id a block lacks and a [vars] table a file lacks', () => {
    const bare = 'name = "segue"\n\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "segue"\n'
    const out = deployConfig(bare, everything, { ACCESS_TEAM_DOMAIN: 'https://acme.cloudflareaccess.com', ACCESS_AUD: 'x' })
    expect(d1Databases(out)[0].database_id).toBe(ID.segue)
    expect(out).toMatch(/\n\[vars\]\nACCESS_TEAM_DOMAIN = "https:\/\/acme.cloudflareaccess.com"\nACCESS_AUD = "x"\n$/)
  })
})

describe('the Access vars', () => {
  const kept = { ACCESS_TEAM_DOMAIN: 'https://kept.cloudflareaccess.com', ACCESS_AUD: 'kept-aud' }

  it('come from the flags, else the environment, else the last deploy, else are off', () => {
    expect(accessVars({}, {}, {})).toEqual(accessOff)
    expect(accessVars({}, {}, kept)).toEqual(kept)
    expect(accessVars({}, { ACCESS_AUD: 'env-aud' }, kept)).toEqual({ ...kept, ACCESS_AUD: 'env-aud' })
    expect(accessVars({ teamDomain: 'flag.cloudflareaccess.com', aud: 'flag-aud' }, { ACCESS_AUD: 'env-aud' }, kept)).toEqual({
      ACCESS_TEAM_DOMAIN: 'https://flag.cloudflareaccess.com',
      ACCESS_AUD: 'flag-aud',
    })
    expect(accessVars({ off: true }, { ACCESS_AUD: 'env-aud' }, kept)).toEqual(accessOff)
  })

  it('write the team domain as the origin Access issues assertions from, and refuse one without the other', () => {
    expect(accessVars({ teamDomain: 'https://acme.cloudflareaccess.com/', aud: 'a' }, {}, {}).ACCESS_TEAM_DOMAIN).toBe('https://acme.cloudflareaccess.com')
    expect(() => accessVars({ teamDomain: 'http://acme.cloudflareaccess.com', aud: 'a' }, {}, {})).toThrow(/https origin/)
    expect(() => accessVars({ teamDomain: 'https://acme.cloudflareaccess.com/cdn-cgi', aud: 'a' }, {}, {})).toThrow(/https origin/)
    expect(() => accessVars({ teamDomain: 'acme.cloudflareaccess.com' }, {}, {})).toThrow(/ACCESS_AUD \(--access-aud\) is missing/)
    expect(() => accessVars({ aud: 'a' }, {}, {})).toThrow(/ACCESS_TEAM_DOMAIN \(--access-team-domain\) is missing/)
  })
})

describe('the secrets', () => {
  it("are the ones the Worker refuses to run without, held to the Worker's own rule", () => {
    expect(secretProblems({}).map((p) => p.split(' ')[0])).toEqual(REQUIRED_SECRETS)
    expect(MIN_SECRET_CHARS).toBe(WORKER_MIN_SECRET_CHARS)
    const strong = 'k'.repeat(40)
    for (const value of ['short', 'x'.repeat(31), 'x'.repeat(32), ...examples, strong]) {
      const worker = secretProblems({ ADMIN_TOKEN: strong, STATE_SECRET: value })
      expect(secretProblem('STATE_SECRET', value, examples), value).toBe(worker[0])
    }
  })
})
