// Copies the files the Worker serves beside the built SDK (sdk/static → sdk/dist).
import { cpSync } from 'node:fs'

cpSync('sdk/static', 'sdk/dist', { recursive: true })
