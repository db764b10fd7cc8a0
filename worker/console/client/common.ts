/**
 * Small behaviours every console page shares: copy buttons, the site picker that opens on change, and
 * forms that ask for confirmation. Without JavaScript each still works (or says what to do).
 */
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-copy]')) {
  button.addEventListener('click', async () => {
    const source = document.getElementById(button.dataset.copy!)
    const status = document.querySelector(`[data-copied="${button.dataset.copy}"]`)
    try {
      await navigator.clipboard.writeText(source?.textContent ?? '')
      if (status) status.textContent = ' Copied.'
    } catch {
      if (status) status.textContent = ' Select the text and copy it with your keyboard.'
    }
  })
}

for (const select of document.querySelectorAll<HTMLSelectElement>('select[data-autosubmit]')) {
  select.addEventListener('change', () => select.form?.submit())
}

for (const form of document.querySelectorAll<HTMLFormElement>('form[data-confirm]')) {
  form.addEventListener('submit', (e) => {
    if (!confirm(form.dataset.confirm)) e.preventDefault()
  })
}
