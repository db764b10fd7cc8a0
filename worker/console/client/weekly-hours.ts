/**
 * The content form's weekly hours: the blank window the server ends the schedule with (where a browser
 * without this script types a new one) becomes an "Add weekly hours" button, and each window gets a
 * Remove button. Windows keep the numbers in their field names; the server reads them in order.
 */
import { h } from './dom'

const WINDOW_NAME = /weekly-\d+-/

export function weeklyHours(schedule: HTMLElement): void {
  const blank = schedule.querySelector<HTMLFieldSetElement>('fieldset.window[data-blank]')
  if (!blank) return
  let next = Number(blank.dataset.window)
  blank.remove()
  const add = h('button', { type: 'button', class: 'secondary', id: 'schedule-add', text: 'Add weekly hours' })
  const windows = () => [...schedule.querySelectorAll<HTMLFieldSetElement>('fieldset.window')]
  const renumber = () =>
    windows().forEach((w, i) => {
      w.querySelector('legend')!.textContent = `Weekly hours ${i + 1}`
      w.querySelector('button.remove')!.textContent = `Remove weekly hours ${i + 1}`
    })
  const removable = (w: HTMLFieldSetElement) => {
    const remove = h('button', { type: 'button', class: 'link remove' })
    remove.addEventListener('click', () => {
      w.remove()
      renumber()
      add.focus()
      schedule.dispatchEvent(new Event('change', { bubbles: true }))
    })
    w.append(remove)
  }
  windows().forEach(removable)
  add.addEventListener('click', () => {
    const w = blank.cloneNode(true) as HTMLFieldSetElement
    const n = next++
    for (const el of [w, ...w.querySelectorAll('*')]) {
      for (const attr of ['id', 'for', 'name', 'aria-describedby']) {
        const value = el.getAttribute(attr)
        if (value) el.setAttribute(attr, value.replace(WINDOW_NAME, `weekly-${n}-`))
      }
    }
    w.dataset.window = String(n)
    delete w.dataset.blank
    // A new window starts as office hours, as in the workflow builder.
    for (const day of ['mon', 'tue', 'wed', 'thu', 'fri']) w.querySelector<HTMLInputElement>(`input[name="weekly-${n}-${day}"]`)!.checked = true
    w.querySelector<HTMLInputElement>(`input[name="weekly-${n}-from"]`)!.value = '09:00'
    w.querySelector<HTMLInputElement>(`input[name="weekly-${n}-to"]`)!.value = '17:00'
    removable(w)
    add.before(w)
    renumber()
    w.querySelector('input')?.focus()
  })
  schedule.append(add)
  renumber()
}
