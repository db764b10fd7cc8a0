/**
 * The order of the workflow list: a row dragged to another place, or moved with its Move up and Move
 * down buttons, is saved at once as the whole order (without this script the buttons are plain forms
 * and the page reloads). A refused order puts the rows back as the server has them, and says why.
 */
import { postJson } from './dom'

const box = document.getElementById('workflow-order')!
const body = box.querySelector('tbody')!
const status = document.getElementById('order-status')!
const problem = document.getElementById('order-error')!

const rows = () => [...body.querySelectorAll<HTMLTableRowElement>('tr[data-workflow]')]
const idsShown = () => rows().map((row) => row.dataset.workflow!)
const nameOf = (row: HTMLTableRowElement) => row.querySelector('td:nth-child(2) a')?.textContent ?? row.dataset.workflow!

/** The order the server holds: what a refused change goes back to. */
let saved = idsShown()
/** Saves one after another, so the last order sent is the one kept. */
let saving = Promise.resolve()
let dragged: HTMLTableRowElement | null = null
let dropped = false

/** Numbers the rows and leaves Move up off on the first and Move down on the last, keeping the focus on the row. */
function renumber() {
  const list = rows()
  list.forEach((row, i) => {
    row.querySelector('.position')!.textContent = String(i + 1)
    const [up, down] = row.querySelectorAll<HTMLButtonElement>('button[name=direction]')
    const focused = document.activeElement
    up.disabled = i === 0
    down.disabled = i === list.length - 1
    if (focused === up && up.disabled) down.focus()
    if (focused === down && down.disabled) up.focus()
  })
}

function showOrder(ids: string[]) {
  const byId = new Map(rows().map((row) => [row.dataset.workflow!, row]))
  for (const id of ids) {
    const row = byId.get(id)
    if (row) body.append(row)
  }
  renumber()
}

function save(moved: HTMLTableRowElement) {
  const ids = idsShown()
  renumber()
  saving = saving.then(async () => {
    problem.hidden = true
    status.textContent = 'Saving the order…'
    let refusal = 'the console did not answer'
    try {
      const { ok, data } = await postJson<{ ids?: string[]; error?: { message?: string } }>(box.dataset.orderUrl!, { ids })
      if (ok && data.ids) {
        saved = data.ids
        status.textContent = `Order saved: ${nameOf(moved)} is number ${saved.indexOf(moved.dataset.workflow!) + 1}.`
        return
      }
      refusal = data.error?.message ?? refusal
    } catch {
      // Offline, or the session ended: said below, and the rows go back.
    }
    showOrder(saved)
    status.textContent = ''
    problem.textContent = `The order could not be saved: ${refusal}. Reload the page and try again.`
    problem.hidden = false
  })
}

for (const row of rows()) row.draggable = true

body.addEventListener('dragstart', (e) => {
  const row = (e.target as Element).closest?.<HTMLTableRowElement>('tr[data-workflow]')
  if (!row || !e.dataTransfer) return
  dragged = row
  dropped = false
  row.classList.add('dragging')
  e.dataTransfer.effectAllowed = 'move'
  e.dataTransfer.setData('text/plain', row.dataset.workflow!)
})

// Rows make way as the dragged one passes the middle of each, so the list shows where it will land.
body.addEventListener('dragover', (e) => {
  if (!dragged) return
  e.preventDefault()
  if (e.dataTransfer) e.dataTransfer.dropEffect = 'move'
  const over = (e.target as Element).closest?.<HTMLTableRowElement>('tr[data-workflow]')
  if (!over || over === dragged) return
  const { top, height } = over.getBoundingClientRect()
  const list = rows()
  const below = list.indexOf(dragged) < list.indexOf(over)
  if (below && e.clientY >= top + height / 2) over.after(dragged)
  else if (!below && e.clientY <= top + height / 2) over.before(dragged)
})

body.addEventListener('drop', (e) => {
  if (!dragged) return
  e.preventDefault()
  dropped = true
  if (idsShown().join() !== saved.join()) save(dragged)
})

body.addEventListener('dragend', () => {
  if (!dragged) return
  dragged.classList.remove('dragging')
  if (!dropped) showOrder(saved)
  dragged = null
})

// The buttons move the neighbouring row rather than this one, so the focus stays on the button pressed.
body.addEventListener('submit', (e) => {
  const form = e.target as HTMLFormElement
  const button = (e as SubmitEvent).submitter as HTMLButtonElement | null
  const row = form.closest<HTMLTableRowElement>('tr[data-workflow]')
  if (!form.classList.contains('move') || !button || !row) return
  e.preventDefault()
  const neighbour = button.value === 'up' ? row.previousElementSibling : row.nextElementSibling
  if (!neighbour) return
  if (button.value === 'up') row.after(neighbour)
  else row.before(neighbour)
  save(row)
})
