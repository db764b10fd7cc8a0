/**
 * Where the contact id and state token are kept: first-party localStorage; a first-party cookie where
 * storage is blocked; memory where both are. Every access is guarded: a locked-down browser never
 * breaks the page.
 */
export interface Store {
  get(key: string): string | null
  set(key: string, value: string | null): void
}

export function openStore(): Store {
  return local() || cookie() || memory()
}

function local(): Store | undefined {
  try {
    const ls = localStorage
    ls.setItem('segue_t', '1')
    ls.removeItem('segue_t')
    return { get: (k) => ls.getItem(k), set: (k, v) => (v === null ? ls.removeItem(k) : ls.setItem(k, v)) }
  } catch {
    return undefined
  }
}

function cookie(): Store | undefined {
  try {
    const write = (k: string, v: string, age: number) => {
      document.cookie = k + '=' + encodeURIComponent(v) + ';path=/;max-age=' + age + ';SameSite=Lax' + (location.protocol == 'https:' ? ';Secure' : '')
    }
    write('segue_t', '1', 9)
    if (document.cookie.indexOf('segue_t=1') < 0) return undefined
    write('segue_t', '', 0)
    return {
      get: (k) => {
        const m = document.cookie.match('(?:^|; )' + k + '=([^;]*)')
        return m ? decodeURIComponent(m[1]) : null
      },
      set: (k, v) => write(k, v || '', v === null ? 0 : 31536000),
    }
  } catch {
    return undefined
  }
}

export function memory(): Store {
  const m: Record<string, string> = {}
  return {
    get: (k) => (k in m ? m[k] : null),
    set: (k, v) => {
      if (v === null) delete m[k]
      else m[k] = v
    },
  }
}
