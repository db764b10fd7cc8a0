/** Helpers the console's page scripts share. */

/** The session's CSRF token, from the page's meta tag. */
export function csrf(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? ''
}

/** POSTs JSON to a console endpoint; the answer's JSON, whatever its status. */
export async function postJson<T>(url: string, body: unknown): Promise<{ ok: boolean; data: T }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf() },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  })
  return { ok: res.ok, data: (await res.json()) as T }
}

/** Reads the JSON a page embeds for its script. */
export function pageData<T>(id: string): T {
  return JSON.parse(document.getElementById(id)?.textContent ?? 'null') as T
}

type Attrs = Record<string, string | number | boolean | undefined | null>

/** Creates an element; text children are inserted as text. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Node | string | null | undefined | false>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'text') el.textContent = String(v)
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children) if (c) el.append(c)
  return el
}

export function options(select: HTMLSelectElement, items: ReadonlyArray<readonly [string, string]>, value: string): HTMLSelectElement {
  for (const [v, label] of items) {
    const o = h('option', { value: v, text: label })
    if (v === value) o.selected = true
    select.append(o)
  }
  return select
}

/** A labelled control: <div><label for=id>text</label>control</div>. */
export function labelled(id: string, text: string, control: HTMLElement): HTMLElement {
  control.id = id
  return h('div', {}, h('label', { for: id, text }), control)
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let t: ReturnType<typeof setTimeout> | undefined
  return (...args: A) => {
    clearTimeout(t)
    t = setTimeout(() => fn(...args), ms)
  }
}
