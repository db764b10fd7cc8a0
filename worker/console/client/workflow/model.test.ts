import { describe, expect, it } from 'vitest'
import { type WorkflowDraft, addNode, connect, disconnect, freeArmId, freshNode, keepWinner, outputs, removeNode } from './model'
import { placesOf, tidy } from './tidy'

const names = {
  segments: [{ id: 'seg_fans', name: 'Fans', type: 'dynamic' }, { id: 'seg_vip', name: 'VIP', type: 'static' }],
  content: [{ id: 'rock', name: 'Rock album' }, { id: 'jazz', name: 'Jazz album' }],
  fields: [{ key: 'country', label: 'Country', type: 'string' }],
}
const blank = (): WorkflowDraft => ({ name: 'Drawn', start: { trigger: { type: 'page_visit' }, limitation: null }, entry: '', nodes: {} })

/** Rock for fans, jazz for everyone else, as the canvas builds it. */
function album(): WorkflowDraft {
  const wf = blank()
  addNode(wf, 'isInSegment', names)
  addNode(wf, 'showContent', names)
  addNode(wf, 'showContent', names)
  wf.nodes.n3.content = 'jazz'
  connect(wf, 'n1', 'yes', 'n2')
  connect(wf, 'n1', 'no', 'n3')
  return wf
}

describe('the canvas draft', () => {
  it('starts from the first node added, filled with the site\'s first segment or content', () => {
    const wf = album()
    expect(wf.entry).toBe('n1')
    expect(wf.nodes).toEqual({
      n1: { type: 'isInSegment', segment: 'seg_fans', yes: 'n2', no: 'n3' },
      n2: { type: 'showContent', content: 'rock' },
      n3: { type: 'showContent', content: 'jazz' },
    })
  })

  it('connects an output to a node, replacing where it led, and refuses what cannot be drawn', () => {
    const wf = album()
    expect(connect(wf, 'n1', 'yes', 'n3')).toBe(true)
    expect(wf.nodes.n1.yes).toBe('n3')
    expect(connect(wf, 'n1', 'yes', 'n1')).toBe(false)
    expect(connect(wf, 'n1', 'yes', 'n9')).toBe(false)
    expect(connect(wf, 'n2', 'yes', 'n3')).toBe(false)
    expect(connect(wf, 'n1', 'next', 'n3')).toBe(false)
    expect(connect(wf, 'start', 'next', 'n2')).toBe(true)
    expect(wf.entry).toBe('n2')
    disconnect(wf, 'n1', 'no')
    expect(wf.nodes.n1).toEqual({ type: 'isInSegment', segment: 'seg_fans', yes: 'n3' })
  })

  it("leads an A/B test's variants one by one, by their place", () => {
    const wf = album()
    const test = addNode(wf, 'abTest', names)
    expect(outputs(wf.nodes[test]).map((o) => [o.handle, o.branch])).toEqual([['arm-0', 'a'], ['arm-1', 'b']])
    connect(wf, test, 'arm-1', 'n3')
    expect(wf.nodes[test].variants).toEqual([{ id: 'a', weight: 1 }, { id: 'b', weight: 1, next: 'n3' }])
    expect(connect(wf, test, 'arm-7', 'n2')).toBe(false)
  })

  it('removes a node with every arrow into it and its place, moving the entry when it was the entry', () => {
    const wf = album()
    wf.layout = { start: { x: 0, y: 0 }, n1: { x: 1, y: 1 }, n2: { x: 2, y: 2 } }
    removeNode(wf, 'n2')
    expect(wf.nodes.n1).toEqual({ type: 'isInSegment', segment: 'seg_fans', no: 'n3' })
    expect(wf.layout).toEqual({ start: { x: 0, y: 0 }, n1: { x: 1, y: 1 } })
    removeNode(wf, 'n1')
    expect(wf.entry).toBe('n3')
    expect(addNode(wf, 'setField', names)).toBe('n1')
  })

  it("never gives a new node an id the saved workflow had, so it takes no removed node's counts or refusal", () => {
    const wf = album()
    removeNode(wf, 'n2')
    expect(addNode(wf, 'showContent', names, undefined, ['n1', 'n2', 'n3'])).toBe('n4')
    expect(addNode(wf, 'showContent', names)).toBe('n2')
  })

  it("drops an A/B test's winner when its variant goes, and names a new variant with a letter not in use", () => {
    const test = { type: 'abTest', variants: [{ id: 'a', weight: 1 }, { id: 'c', weight: 1 }], winner: 'c' }
    keepWinner(test)
    expect(test.winner).toBe('c')
    expect(freeArmId(test.variants)).toBe('b')
    test.variants.pop()
    keepWinner(test)
    expect(test).not.toHaveProperty('winner')
  })

  it('keeps a node\'s exits and limitation when its type changes', () => {
    const changed = freshNode('checkDevice', names, { type: 'isInSegment', segment: 'seg_fans', yes: 'n2', no: 'n3', limitation: { cooldown: '1d' } })
    expect(changed).toEqual({ type: 'checkDevice', devices: ['mobile'], yes: 'n2', no: 'n3', limitation: { cooldown: '1d' } })
    expect(freshNode('addToSegment', names, changed)).toEqual({ type: 'addToSegment', segment: 'seg_vip', next: 'n2', limitation: { cooldown: '1d' } })
  })
})

describe('laying the canvas out', () => {
  it('puts every node right of what leads to it, and branches beside each other', () => {
    const wf = album()
    const places = tidy(wf)
    expect(places.start.x).toBeLessThan(places.n1.x)
    expect(places.n1.x).toBeLessThan(places.n2.x)
    expect(places.n2.x).toBe(places.n3.x)
    expect(places.n2.y).not.toBe(places.n3.y)
  })

  it('keeps saved places, and puts a node without one below them', () => {
    const wf = album()
    wf.layout = { start: { x: 500, y: 500 }, n1: { x: 900, y: 400 }, n2: { x: 1300, y: 300 } }
    const places = placesOf(wf)
    expect(places.n1).toEqual({ x: 900, y: 400 })
    expect(places.n3.y).toBeGreaterThan(500)
  })
})
