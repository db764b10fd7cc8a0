import Papa from 'papaparse'
import { describe, expect, it } from 'vitest'
import { FieldCatalog } from '../conditions/fields'
import { cellValue, csvCell, csvLine, parseCsv, rowInput } from './csv'

describe('an export cell', () => {
  it.each([
    ['plain text stays as it is', 'Ana', 'Ana'],
    ['a comma is quoted', 'Lopez, Ana', '"Lopez, Ana"'],
    ['quotes are doubled inside quotes', 'Ana "Nena"', '"Ana ""Nena"""'],
    ['a line break is quoted', 'one\ntwo', '"one\ntwo"'],
    ['a carriage return is quoted, after its guard', '\rx', `"'\rx"`],
    ['a formula gets an apostrophe', '=1+2', "'=1+2"],
    ['a formula with a comma is guarded, then quoted', '=SUM(A1,A2)', `"'=SUM(A1,A2)"`],
    ['a plus sign is guarded', '+33 6 12 34 56 78', "'+33 6 12 34 56 78"],
    ['a minus sign is guarded', '-minus', "'-minus"],
    ['an at sign is guarded', '@home', "'@home"],
    ['a tab is guarded', '\tindent', "'\tindent"],
    ['text already guarded is guarded again, so an import gives it back whole', "'=x", "''=x"],
    ['an apostrophe before anything else is left alone', "'quoted", "'quoted"],
  ])('%s', (_name, value, cell) => {
    expect(csvCell(value)).toBe(cell)
  })

  it('writes numbers and booleans as they are, a negative number unguarded', () => {
    expect([csvCell(-5), csvCell(12.5), csvCell(true), csvCell(null), csvCell(undefined)]).toEqual(['-5', '12.5', 'true', '', ''])
  })

  it('ends a line with CRLF', () => {
    expect(csvLine(['a', 1, null])).toBe('a,1,\r\n')
  })
})

describe('reading an import', () => {
  it('gives back every value an export wrote, through a CSV parser', () => {
    const values = ['=1+2', "'=x", "''@y", '+33', 'plain', "'quoted", 'a,"b"\r\nc', '\tx', '-']
    const text = csvLine(values)
    expect(parseCsv(text).rows[0].map(cellValue)).toEqual(values)
    expect(Papa.parse<string[]>(text).data[0].map(cellValue)).toEqual(values)
  })

  it('skips blank lines and the byte-order mark, and refuses a quote left open', () => {
    expect(parseCsv('\ufeffemail\r\n\r\na@example.com\r\n').rows).toEqual([['email'], ['a@example.com']])
    expect(parseCsv('email,firstName\n"a@example.com,Ana\nb@example.com,Bo').errors).toEqual([{ row: 1, message: 'a quoted cell is not closed' }])
  })

  it('reads numbers, booleans and dates by the field they go to, and leaves empty cells out', () => {
    const catalog = new FieldCatalog([{ key: 'score', type: 'number' }, { key: 'vip', type: 'boolean' }, { key: 'renewal', type: 'date' }])
    const columns = [{ name: 'E-mail', field: 'email' }, { name: 'Score', field: 'score' }, { name: 'VIP', field: 'vip' }, { name: 'Renewal', field: 'renewal' }, { name: 'City', field: 'city' }, { name: 'Notes', field: null }]
    expect(rowInput([' ana@example.com ', '-1.5e2', 'Yes', ' 2027-01-31 ', '', 'anything'], columns, catalog)).toEqual({
      input: { email: 'ana@example.com', fields: { score: -150, vip: true, renewal: '2027-01-31' } },
      errors: [],
    })
    expect(rowInput(['ana@example.com', '1,5', 'maybe', '', "'+Paris", ''], columns, catalog)).toEqual({
      input: { email: 'ana@example.com', fields: { city: '+Paris' } },
      errors: [
        { column: 'Score', message: 'must be a number, written with a dot for decimals (1234.5)' },
        { column: 'VIP', message: 'must be true or false (or yes/no, 1/0)' },
      ],
    })
  })
})
