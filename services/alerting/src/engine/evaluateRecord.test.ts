import { describe, expect, it } from 'vitest'
import { maxJsonNestingDepth } from '@audit-pipeline/event-model'
import type { AlertNotice } from '../alerts/alertNotice.js'
import { parseRules } from '../rules/parseRules.js'
import { auditEvent } from '../testSupport/auditEvents.js'
import { deeplyNestedChange } from '../testSupport/hostileEvents.js'
import { createAlertEngine } from './alertEngine.js'
import { errorNameCode, evaluateRecord, type RecordEngine } from './evaluateRecord.js'
import { maxStateEntryBytes } from './stateEntryText.js'

const t0 = Date.parse('2026-03-02T09:00:00Z')
const from = { source: 'audit.normalized:0', nowMs: t0 }
const accept = () => undefined

/** Every delete alerts; priorities are remembered per ticket (entity state). */
const engineWith = () =>
  createAlertEngine({
    rules: parseRules(
      `
rules:
  - id: every-delete
    kind: match
    severity: warning
    filter: event.action.kind == "delete"
  - id: deletes-per-user
    kind: threshold
    severity: critical
    filter: event.action.kind == "delete" || event.action.kind == "update"
    groupBy: event.actor.id
    window: 1h
    atLeast: 3
  - id: priority-was-urgent
    kind: match
    severity: info
    filter: '"priority" in entity.fields && entity.fields.priority == "Urgent"'
`,
      'rules.yaml',
    ),
    allowedLatenessMs: 60_000,
    maxGroupsPerRule: 100,
    maxEntities: 100,
    checkIntervalMs: 1_000,
  })

describe('evaluateRecord', () => {
  it('refuses JSON nested past the shared limit before anything walks it', () => {
    const engine = engineWith()
    const outcome = evaluateRecord(deeplyNestedChange({ at: t0, levels: 6_000 }), {
      engine,
      from,
      checkNotices: accept,
    })
    expect(outcome).toEqual({
      kind: 'dead-letter',
      cause: {
        errorClass: 'EVENT_TOO_DEEP',
        message: `changes[0].new_value nests objects and arrays more than ${maxJsonNestingDepth} levels deep (at offset ${maxJsonNestingDepth})`,
      },
    })
    // Never evaluated: nothing counted, nothing remembered.
    expect(engine.takeCounters().engine.evaluated).toBe(0)
    expect(engine.drainStateChanges()).toEqual([])
  })

  it('takes values up to the limit', () => {
    const engine = engineWith()
    const atLimit = deeplyNestedChange({ at: t0, levels: maxJsonNestingDepth })
    expect(evaluateRecord(atLimit, { engine, from, checkNotices: accept })).toEqual({
      kind: 'evaluated',
      notices: [],
    })
    const beyond = deeplyNestedChange({ at: t0, levels: maxJsonNestingDepth + 1 })
    expect(evaluateRecord(beyond, { engine, from, checkNotices: accept })).toMatchObject({
      kind: 'dead-letter',
      cause: { errorClass: 'EVENT_TOO_DEEP' },
    })
  })

  it('an entry the event makes unwritable dead-letters the event; what it changed is forgotten, the next event goes on', () => {
    const engine = engineWith()
    const ticket = { id: 'T-7' }
    // Two updates by u-1 towards the threshold, and the ticket's priority remembered.
    for (const at of [t0, t0 + 1_000]) {
      const update = auditEvent({
        at,
        object: ticket,
        actor: { id: 'u-1' },
        changes: { priority: ['Low', 'Urgent'] },
      })
      expect(evaluateRecord(update, { engine, from, checkNotices: accept }).kind).toBe('evaluated')
    }
    engine.drainStateChanges()

    // A change value just under the normalizer's 1 MB event limit: the ticket's entity state
    // would take more than a changelog entry may.
    const huge = auditEvent({
      at: t0 + 2_000,
      object: ticket,
      actor: { id: 'u-1' },
      changes: { description: ['', 'x'.repeat(maxStateEntryBytes)] },
    })
    const outcome = evaluateRecord(huge, { engine, from, checkNotices: accept })
    expect(outcome).toMatchObject({
      kind: 'dead-letter',
      cause: { errorClass: 'RECORD_FAILED', reason: 'STATE_NOT_WRITABLE_ERROR' },
    })
    expect(outcome.kind === 'dead-letter' && outcome.cause.message).toMatch(
      /^evaluating the event failed: StateNotWritableError: the state entry in entity takes \d+ bytes/,
    )
    // Its alert (u-1's third change: the threshold) is not raised, and both entries it changed
    // are forgotten, in memory and in the changelog.
    const tombstones = engine.drainStateChanges()
    expect(
      tombstones.filter((change) => change.key.startsWith('rule:') || change.key.startsWith('entity')),
    ).toEqual([
      { key: 'entity\u0000acme\u0001ticket\u0001T-7', value: null },
      { key: expect.stringMatching(/^rule:deletes-per-user:\w+/) as string, value: null },
    ])
    expect(tombstones.find((change) => change.key.startsWith('rule:'))?.key).toMatch(/\W+acme\W+u-1$/)

    // The next event is evaluated from the state that remains: the ticket's priority is unknown
    // now, and u-1's count starts afresh.
    const next = auditEvent({ at: t0 + 3_000, object: ticket, actor: { id: 'u-1' }, kind: 'delete' })
    const after = evaluateRecord(next, { engine, from, checkNotices: accept })
    expect(after.kind === 'evaluated' && after.notices.map((notice) => notice.ruleId)).toEqual([
      'every-delete',
    ])
  })

  it('whatever evaluating throws becomes that event’s dead letter, named by the error', () => {
    let forgotten = 0
    const throwing = (error: unknown): RecordEngine => ({
      evaluate: () => {
        throw error
      },
      sealStateChanges: () => undefined,
      forgetUnsealedChanges: () => ++forgotten,
    })
    const event = auditEvent({ at: t0 })
    expect(
      evaluateRecord(event, {
        engine: throwing(new RangeError('Maximum call stack size exceeded')),
        from,
        checkNotices: accept,
      }),
    ).toMatchObject({
      kind: 'dead-letter',
      cause: {
        errorClass: 'RECORD_FAILED',
        reason: 'RANGE_ERROR',
        message: 'evaluating the event failed: RangeError: Maximum call stack size exceeded',
      },
    })
    expect(evaluateRecord(event, { engine: throwing('a string'), from, checkNotices: accept })).toMatchObject(
      { cause: { errorClass: 'RECORD_FAILED', reason: 'STRING' } },
    )
    expect(forgotten).toBe(2)
  })

  it('an alert that cannot be written fails its event, not the transaction', () => {
    const engine = engineWith()
    const refuse = (notices: readonly AlertNotice[]) => {
      if (notices.length > 0) throw new TypeError('cannot encode')
    }
    const outcome = evaluateRecord(auditEvent({ at: t0, kind: 'delete' }), {
      engine,
      from,
      checkNotices: refuse,
    })
    expect(outcome).toMatchObject({
      kind: 'dead-letter',
      cause: { errorClass: 'RECORD_FAILED', reason: 'TYPE_ERROR' },
    })
    // The threshold's count of that delete is forgotten with it.
    expect(engine.drainStateChanges().filter((change) => change.key.startsWith('rule:'))).toEqual([
      { key: expect.stringMatching(/^rule:deletes-per-user:/) as string, value: null },
    ])
  })

  it('writes error names as codes', () => {
    expect(errorNameCode('RangeError')).toBe('RANGE_ERROR')
    expect(errorNameCode('StateNotWritableError')).toBe('STATE_NOT_WRITABLE_ERROR')
    expect(errorNameCode('Error')).toBe('ERROR')
    expect(errorNameCode('_x-y')).toBe('X_Y')
    expect(errorNameCode('')).toBe('UNKNOWN')
  })
})
