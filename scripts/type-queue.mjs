// `wrangler types` cannot know what the queue carries, and types the binding `Queue` (of unknown): this
// narrows it to Segue's message union, so that sending a wrong message does not compile.
import { readFileSync, writeFileSync } from 'node:fs'

const FILE = 'worker/worker-configuration.d.ts'
const typed = readFileSync(FILE, 'utf8').replace(/\bEVENTS: Queue;/, 'EVENTS: Queue<import("./background/messages").QueueMessage>;')
if (!typed.includes('Queue<import(')) throw new Error(`${FILE} has no "EVENTS: Queue;" to type`)
writeFileSync(FILE, typed)
