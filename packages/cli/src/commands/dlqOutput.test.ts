import type { DeadLetter, RefusedDeadLetter, ReplayResult } from '@audit-pipeline/dead-letter'
import { DeadLetterFormatError, sealedErrorMessageText } from '@audit-pipeline/dead-letter'
import { describe, expect, it } from 'vitest'
import {
  deadLetterJson,
  deadLetterTable,
  listingSummary,
  replaySummary,
  type ListedDeadLetter,
} from './dlqOutput.js'

const dead: DeadLetter = {
  dlq: { topic: 'audit.dlq', partition: 1, offset: '42' },
  errorClass: 'EVENT_UNDECODABLE',
  reason: 'NOT_JSON',
  message: 'Unexpected token o in JSON\nat position 1',
  source: { topic: 'audit.events', partition: 3, offset: '1234', timestamp: '1767225600000' },
  failedAt: new Date('2026-03-01T10:00:00Z'),
  service: 'normalizer',
  key: Buffer.from('k'),
  value: Buffer.from([0, 255, 1]),
  originalHeaders: { 'trace-id': Buffer.from('abc') },
}

describe('deadLetterTable', () => {
  it('aligns the columns and cuts the message to the width', () => {
    const other = {
      ...dead,
      dlq: { ...dead.dlq, offset: '7' },
      reason: undefined,
      value: null,
      service: 'clickhouse-sink',
    }
    const lines = deadLetterTable([dead, other], 130)
    expect(lines).toEqual([
      'DLQ   FAILED AT                 SERVICE          CLASS/REASON                SOURCE               BYTES  MESSAGE',
      '1/42  2026-03-01T10:00:00.000Z  normalizer       EVENT_UNDECODABLE/NOT_JSON  audit.events/3/1234  3      Unexpected token o in JS…',
      '1/7   2026-03-01T10:00:00.000Z  clickhouse-sink  EVENT_UNDECODABLE           audit.events/3/1234  null   Unexpected token o in JS…',
    ])
    expect(lines.every((line) => line.length <= 130)).toBe(true)
    // However narrow the terminal, the message keeps 20 characters.
    expect(deadLetterTable([dead], 40)[1]).toMatch(/ {2}Unexpected token o …$/)
    // A line break in the message is shown, not obeyed: the row stays one line.
    expect(deadLetterTable([dead], 200)[1]).toMatch(/ {2}Unexpected token o in JSON\\nat position 1$/)
    const hostile = { ...dead, message: 'bad input \u001b[2J\u001b]0;pwned\u0007', service: 'x\u202ey' }
    expect(deadLetterTable([hostile], 200)[1]).toMatch(/x\\u202ey .* bad input \\x1b\[2J\\x1b\]0;pwned\\x07$/)
  })
})

describe('deadLetterJson', () => {
  it('keeps every field, the bytes in base64', () => {
    expect(JSON.parse(deadLetterJson(dead))).toEqual({
      dlq: { topic: 'audit.dlq', partition: 1, offset: '42' },
      failedAt: '2026-03-01T10:00:00.000Z',
      service: 'normalizer',
      errorClass: 'EVENT_UNDECODABLE',
      reason: 'NOT_JSON',
      message: 'Unexpected token o in JSON\nat position 1',
      source: { topic: 'audit.events', partition: 3, offset: '1234', timestamp: '1767225600000' },
      keyBase64: 'aw==',
      valueBase64: 'AP8B',
      headersBase64: { 'trace-id': 'YWJj' },
      sealed: null,
    })
  })

  it('says what opening a sealed one gave, with the original value and message when it opened', () => {
    const parse = (d: ListedDeadLetter) => JSON.parse(deadLetterJson(d)) as Record<string, unknown>
    expect(parse(opened)).toMatchObject({
      message: sealedErrorMessageText,
      valueBase64: Buffer.from('enc:v1:kAbc:…').toString('base64'),
      sealed: {
        keyId: 'kAbc',
        state: 'opened',
        tenant: 'witify',
        valueBase64: Buffer.from('{"tenant":"witify"}').toString('base64'),
        message: "occurred_at: 'yesterday' is not an ISO-8601 time",
      },
    })
    expect(parse(erased)['sealed']).toEqual({
      keyId: 'kAbc',
      state: 'erased',
      tenant: 'witify',
      erasedAt: '2026-03-02T00:00:00.000Z',
    })
    expect(parse(notOpened)['sealed']).toEqual({ keyId: 'kAbc', state: 'not-opened' })
  })
})

const sealedDead: ListedDeadLetter = {
  ...dead,
  errorClass: 'EVENT_INVALID',
  reason: undefined,
  message: sealedErrorMessageText,
  value: Buffer.from('enc:v1:kAbc:…'),
  sealed: { keyId: 'kAbc', errorMessage: 'enc:v1:kAbc:…' },
}
const opened: ListedDeadLetter = {
  ...sealedDead,
  opening: {
    state: 'opened',
    keyId: 'kAbc',
    tenant: 'witify',
    value: Buffer.from('{"tenant":"witify"}'),
    message: "occurred_at: 'yesterday' is not an ISO-8601 time",
  },
}
const erased: ListedDeadLetter = {
  ...sealedDead,
  dlq: { ...dead.dlq, offset: '43' },
  opening: { state: 'erased', keyId: 'kAbc', tenant: 'witify', erasedAt: new Date('2026-03-02T00:00:00Z') },
}
const notOpened: ListedDeadLetter = {
  ...sealedDead,
  dlq: { ...dead.dlq, offset: '44' },
  opening: { state: 'not-opened', keyId: 'kAbc' },
}

describe('sealed dead letters in the table', () => {
  it('adds a SEALED column: opened ones with the original size and message, [erased] once erased', () => {
    expect(deadLetterTable([dead, opened, erased, notOpened], 240)).toEqual([
      'DLQ   FAILED AT                 SERVICE     CLASS/REASON                SOURCE               BYTES  SEALED    MESSAGE',
      '1/42  2026-03-01T10:00:00.000Z  normalizer  EVENT_UNDECODABLE/NOT_JSON  audit.events/3/1234  3      -         Unexpected token o in JSON\\nat position 1',
      "1/42  2026-03-01T10:00:00.000Z  normalizer  EVENT_INVALID               audit.events/3/1234  19     opened    occurred_at: 'yesterday' is not an ISO-8601 time",
      `1/43  2026-03-01T10:00:00.000Z  normalizer  EVENT_INVALID               audit.events/3/1234  15     [erased]  ${sealedErrorMessageText}`,
      `1/44  2026-03-01T10:00:00.000Z  normalizer  EVENT_INVALID               audit.events/3/1234  15     sealed    ${sealedErrorMessageText}`,
    ])
  })

  it('counts them in the summary, and says how to open those it could not', () => {
    expect(
      listingSummary(
        { deadLetters: [dead, opened, erased, notOpened], unreadable: [], limited: false },
        'audit.dlq',
        100,
        false,
      ),
    ).toEqual([
      '4 dead letter(s) in audit.dlq',
      '3 sealed for their data subject (1 opened, 1 [erased], 1 sealed)',
      'to open them, give the key store they were sealed with: FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE, or --keys-dir and --kek-file',
    ])
    expect(
      listingSummary({ deadLetters: [opened], unreadable: [], limited: false }, 'audit.dlq', 100, false),
    ).toEqual(['1 dead letter(s) in audit.dlq', '1 sealed for their data subject (1 opened)'])
  })
})

describe('summaries', () => {
  it('says when the limit cut the listing, and lists foreign messages', () => {
    const foreign = new DeadLetterFormatError({ topic: 'audit.dlq', partition: 0, offset: '3' }, [
      'header audit-dlq-service is missing',
    ])
    expect(
      listingSummary({ deadLetters: [dead], unreadable: [foreign], limited: true }, 'audit.dlq', 1, true),
    ).toEqual([
      '1 dead letter(s) matching in audit.dlq; more match: raise --limit (now 1)',
      '1 message(s) in audit.dlq are not dead letters and were not listed:',
      '  0/3: header audit-dlq-service is missing',
    ])
  })

  it('reports a replay per target and whether it was remembered', () => {
    const result = {
      replayed: 3,
      skipped: 0,
      byTarget: { 'b.topic': 1, 'a.topic': 2 },
      unreadable: [],
      refused: [],
    }
    expect(replaySummary({ ...result, dryRun: false, progressRemembered: true }, 'audit.dlq', 'g')).toEqual([
      're-sent 3 dead letter(s) from audit.dlq:',
      '  2 to a.topic',
      '  1 to b.topic',
      'remembered in consumer group g: the next replay starts after these',
    ])
    expect(
      replaySummary(
        { ...result, skipped: 4, dryRun: false, progressRemembered: false },
        'audit.dlq',
        'g',
      ).slice(-2),
    ).toEqual([
      'skipped 4 not matching the filter',
      'not remembered (a filter selects what is replayed): the same replay would send these again',
    ])
    expect(replaySummary({ ...result, dryRun: true, progressRemembered: false }, 'audit.dlq', 'g')).toEqual([
      'dry run: would re-send 3 dead letter(s) from audit.dlq:',
      '  2 to a.topic',
      '  1 to b.topic',
    ])
  })

  it('names each sealed dead letter it refused, and why', () => {
    const refused: RefusedDeadLetter[] = [
      {
        dlq: { topic: 'audit.dlq', partition: 0, offset: '3' },
        keyId: 'kAbc',
        reason: 'erased',
        message: 'dead letter audit.dlq/0/3: not replayed, its key kAbc was erased at …',
      },
      {
        dlq: { topic: 'audit.dlq', partition: 0, offset: '4' },
        keyId: 'kDef',
        reason: 'unreadable',
        message: 'dead letter audit.dlq/0/4: not replayed, it does not open with its key kDef …',
      },
    ]
    const result: ReplayResult = {
      replayed: 1,
      skipped: 0,
      byTarget: { 'audit.events': 1 },
      unreadable: [],
      refused,
      dryRun: false,
      progressRemembered: true,
    }
    expect(replaySummary(result, 'audit.dlq', 'g')).toEqual([
      're-sent 1 dead letter(s) from audit.dlq:',
      '  1 to audit.events',
      'refused 2 sealed dead letter(s) (1 erased, 1 not opening): never sent, not even as ciphertext',
      '  dead letter audit.dlq/0/3: not replayed, its key kAbc was erased at …',
      '  dead letter audit.dlq/0/4: not replayed, it does not open with its key kDef …',
      'remembered in consumer group g: the next replay starts after these',
    ])
  })
})
