import { describe, expect, it } from 'vitest'
import { recordBytes } from '@audit-pipeline/kafka'
import { produceRounds } from './messageChunks.js'

const message = (key: string, bytes: number) => ({ key, value: 'x'.repeat(bytes) })

describe('produceRounds', () => {
  it('keeps a small transaction in one request', () => {
    const topics = [
      { topic: 'alerts', messages: [message('a', 10)] },
      { topic: 'state', messages: [message('s1', 10), message('s2', 10)] },
    ]
    expect(produceRounds(topics, 1024)).toEqual([topics])
  })

  it('splits a topic over rounds of at most maxBytes, in order, one chunk per topic per round', () => {
    const state = Array.from({ length: 10 }, (_, i) => message(`s${i}`, 100))
    const perMessage = recordBytes(state[0]!)
    const rounds = produceRounds(
      [
        { topic: 'alerts', messages: [message('a', 10)] },
        { topic: 'state', messages: state },
      ],
      perMessage * 4,
    )
    expect(rounds.map((round) => round.map(({ topic, messages }) => `${topic}:${messages.length}`))).toEqual([
      ['alerts:1', 'state:4'],
      ['state:4'],
      ['state:2'],
    ])
    expect(rounds.flatMap((round) => round.flatMap((t) => (t.topic === 'state' ? t.messages : [])))).toEqual(
      state,
    )
  })

  it('sends a message larger than the limit on its own rather than dropping it', () => {
    const big = message('big', 5_000)
    expect(produceRounds([{ topic: 't', messages: [message('a', 1), big] }], 1_000)).toEqual([
      [{ topic: 't', messages: [message('a', 1)] }],
      [{ topic: 't', messages: [big] }],
    ])
  })
})
