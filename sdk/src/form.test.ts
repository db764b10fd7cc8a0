/**
 * Forms in content, in happy-dom through the renderer: labelled inputs and the owner's consent text as
 * text, validation with errors tied to their inputs and the focus on the first at fault, what a submit
 * reports, and the thanks in the form's place.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { type ContentForm, type ContentPayload } from '../../shared/content'
import { type Submission, reset, show } from './render'

const FORM: ContentForm = {
  fields: [
    { key: 'email', label: 'Email', type: 'email', required: true },
    { key: 'firstName', label: 'First name', type: 'text' },
    { key: 'vinylCount', label: 'Records you own', type: 'number' },
    { key: 'birthDate', label: 'Born on', type: 'date' },
    { key: 'jazzFan', label: 'I like jazz', type: 'checkbox' },
  ],
  consent: { text: 'Send me <b>the weekly letter</b>', required: true },
  submit: 'Subscribe',
  thanks: 'Thanks, <i>see you</i> on Friday',
}

const content = (format: ContentPayload['format'] = 'popup', form = FORM): ContentPayload => ({ id: 'news', format, title: 'Join the list', selector: '#slot', display: { on: 'immediately' }, form })

let submitted: Array<{ action: string; who?: Submission; consent?: boolean }>
const root = () => document.querySelector('[data-segue="news"]')!.shadowRoot!
const input = (label: string) => {
  const l = [...root().querySelectorAll('label')].find((x) => x.textContent === label)
  return l!.querySelector('input')!
}
const submit = () => root().querySelector<HTMLButtonElement>('form button')!.click()
const errorOf = (i: HTMLInputElement) => root().getElementById(i.getAttribute('aria-describedby')!)!

beforeEach(() => {
  reset()
  submitted = []
  document.body.innerHTML = '<div id="slot"></div>'
})

const open = (c = content()) => show(c, (_c, action, who, consent) => void (action == 'submitted' && submitted.push({ action, who, consent })))

describe('a form in content', () => {
  it('labels each input, and shows the owner\'s consent text as text', () => {
    open()
    const labels = [...root().querySelectorAll('label')].map((l) => l.textContent)
    expect(labels).toEqual(['Email', 'First name', 'Records you own', 'Born on', 'I like jazz', 'Send me <b>the weekly letter</b>'])
    expect(root().querySelector('b')).toBeNull()
    expect(input('Email').type).toBe('email')
    expect(input('Email').required).toBe(true)
    expect(input('Email').autocomplete).toBe('email')
    expect(input('First name').autocomplete).toBe('given-name')
    expect(input('Records you own').type).toBe('number')
    expect(input('Born on').type).toBe('date')
    expect(input('Send me <b>the weekly letter</b>').type).toBe('checkbox')
    expect(root().querySelector('form button')!.textContent).toBe('Subscribe')
  })

  it('refuses a submit with a required input empty: the error is tied to it and the focus goes to it', () => {
    open()
    submit()
    const email = input('Email')
    expect(email.getAttribute('aria-invalid')).toBe('true')
    expect(errorOf(email).textContent).not.toBe('')
    expect(root().activeElement).toBe(email)
    const consent = input('Send me <b>the weekly letter</b>')
    expect(consent.getAttribute('aria-invalid')).toBe('true')
    expect(input('First name').hasAttribute('aria-invalid')).toBe(false)
    expect(submitted).toEqual([])
  })

  it('refuses an email without a domain the Worker would accept, and clears the error once corrected', () => {
    open()
    const email = input('Email')
    input('Send me <b>the weekly letter</b>').checked = true
    for (const wrong of ['ana', 'ana@example', 'ana @example.com']) {
      email.value = wrong
      submit()
      expect(email.getAttribute('aria-invalid'), wrong).toBe('true')
    }
    email.value = 'ana@example.com'
    email.dispatchEvent(new Event('input'))
    expect(email.hasAttribute('aria-invalid')).toBe(false)
    expect(errorOf(email).textContent).toBe('')
    expect(submitted).toEqual([])
  })

  it('reports the email, the other fields by key (empty ones left out) and the consent, then thanks in its place', () => {
    open()
    input('Email').value = '  ana@example.com '
    input('First name').value = 'Ana'
    input('Records you own').value = '120'
    input('Send me <b>the weekly letter</b>').checked = true
    submit()
    expect(submitted).toEqual([{ action: 'submitted', who: { email: 'ana@example.com', fields: { firstName: 'Ana', vinylCount: 120, jazzFan: false } }, consent: true }])
    expect(root().querySelector('form')).toBeNull()
    const thanks = root().querySelector('[role="status"]')!
    expect(thanks.textContent).toBe('Thanks, <i>see you</i> on Friday')
    expect(thanks.querySelector('i')).toBeNull()
    expect(root().activeElement).toBe(thanks)
  })

  it('reports no identity for a form of a consent box alone, and no consent for a form without one', () => {
    open(content('popup', { fields: [], consent: { text: 'Yes, write to me' }, submit: 'OK' }))
    submit()
    reset()
    open(content('popup', { fields: [{ key: 'firstName', label: 'Name', type: 'text' }], submit: 'OK' }))
    input('Name').value = 'Ana'
    submit()
    expect(submitted).toEqual([
      { action: 'submitted', who: undefined, consent: false },
      { action: 'submitted', who: { fields: { firstName: 'Ana' } }, consent: undefined },
    ])
  })

  it('keeps Tab inside a popup through its inputs', () => {
    open()
    const root_ = root()
    const submitButton = root_.querySelector<HTMLButtonElement>('form button')!
    submitButton.focus()
    const tab = new KeyboardEvent('keydown', { key: 'Tab', cancelable: true })
    document.dispatchEvent(tab)
    expect(tab.defaultPrevented).toBe(true)
    expect(root_.activeElement).toBe(root_.querySelector('.x'))
    const back = new KeyboardEvent('keydown', { key: 'Tab', shiftKey: true, cancelable: true })
    document.dispatchEvent(back)
    expect(root_.activeElement).toBe(submitButton)
  })

  it.each(['slide-in', 'bar', 'inline'] as const)('renders in a %s too', (format) => {
    open(content(format))
    input('Email').value = 'ana@example.com'
    input('Send me <b>the weekly letter</b>').checked = true
    submit()
    expect(submitted.map((s) => s.who?.email)).toEqual(['ana@example.com'])
  })
})
