/**
 * The compiled site configs an isolate holds in memory, by public site key (a key known to name no site
 * included), at most MAX_CACHED_SITES of them: the oldest is forgotten first.
 */
import { type CompiledSite } from './compile'

export interface CachedSite {
  compiled: CompiledSite | null
  checkedAt: number
  refreshing?: Promise<void>
}

const MAX_CACHED_SITES = 1_000
const cache = new Map<string, CachedSite>()

export const cachedSite = (key: string): CachedSite | undefined => cache.get(key)

export function rememberSite(key: string, entry: CachedSite): void {
  cache.delete(key)
  cache.set(key, entry)
  if (cache.size > MAX_CACHED_SITES) cache.delete(cache.keys().next().value!)
}

export function forgetSite(key: string): void {
  cache.delete(key)
}

/** Forgets every cached config (tests and benchmarks start from a cold isolate). */
export function clearConfigCache(): void {
  cache.clear()
}
