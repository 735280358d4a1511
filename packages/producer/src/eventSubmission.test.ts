import { describe, expect, it } from 'vitest'
import {
  assertEventAcceptable,
  EventInvalidError,
  redactEvent,
  type AuditEvent,
} from '@audit-pipeline/event-model'
import { KeyStoreError } from '@audit-pipeline/field-encryption'
import { createEventBuilder } from './eventBuilder.js'
import { createEventSubmission, type SubmissionSteps } from './eventSubmission.js'
import { ProducerError } from './producerError.js'
import type { SourceProtection } from './sourceProtection.js'

const now = 1_700_000_000_000
let nextId = 0
const build = createEventBuilder(
  { tenant: 'acme', source: { service: 'crm' }, category: 'business', snapshots: true },
  { now: () => now, newEventId: () => `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}` },
)
const created = (id: string, actorId = 'u-1') =>
  build.created(
    { type: 'ticket', id },
    { title: id, email: `${id}@example.com` },
    {
      actor: { id: actorId },
      sensitiveFields: ['email'],
    },
  )
const invalid = () => ({ ...created('bad'), category: 'gossip' })

/** A protection each call of which waits until the test releases it (or fails it). */
function heldProtection() {
  const held: { event: AuditEvent; release: () => void; fail: (error: Error) => void }[] = []
  const protect: SourceProtection = (event) =>
    new Promise((resolve, reject) =>
      held.push({ event, release: () => resolve(redactEvent(event, { mode: 'drop' })), fail: reject }),
    )
  return { held, protect }
}

/** Steps whose batch is an array: what was added, in order. */
function stepsWith(protect: SourceProtection, encode: (event: AuditEvent) => string = (e) => e.object.id) {
  const added: string[] = []
  const steps: SubmissionSteps<string> = {
    check: (event, jsonTextTrusted) => assertEventAcceptable(event, now, undefined, { jsonTextTrusted }),
    protect,
    encode,
    add: (item) => {
      added.push(item)
      return Promise.resolve()
    },
  }
  return { added, submission: createEventSubmission(steps) }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('event submission', () => {
  it('refuses a bad event before protecting or buffering anything of it', async () => {
    let protectedCount = 0
    const { added, submission } = stepsWith((event) => {
      protectedCount++
      return event
    })
    await expect(submission.send(invalid(), true)).rejects.toThrow(EventInvalidError)
    await expect(submission.send(invalid(), true)).rejects.toThrow("category: unknown category 'gossip'")
    expect(protectedCount).toBe(0)
    expect(added).toEqual([])
  })

  it('adds events in the order they were given, however long each one took to seal', async () => {
    const { held, protect } = heldProtection()
    const { added, submission } = stepsWith(protect)
    const sends = ['t-1', 't-2', 't-3'].map((id) => submission.send(created(id), true))
    await settle()
    // The last given is sealed first (its key was cached, say): it still waits its turn.
    held[2]!.release()
    await settle()
    expect(added).toEqual([])
    held[0]!.release()
    await settle()
    expect(added).toEqual(['t-1'])
    held[1]!.release()
    await Promise.all(sends)
    expect(added).toEqual(['t-1', 't-2', 't-3'])
  })

  it('rejects an event whose sealing failed, sends nothing of it, and goes on with the next', async () => {
    const { held, protect } = heldProtection()
    const { added, submission } = stepsWith(protect)
    const first = submission.send(created('t-1'), true)
    const second = submission.send(created('t-2'), true)
    await settle()
    held[1]!.release()
    const failure = new ProducerError('KEY_STORE_UNAVAILABLE', 'the key store did not answer', false, {
      cause: new KeyStoreError('gone'),
    })
    held[0]!.fail(failure)
    await expect(first).rejects.toBe(failure)
    await expect(second).resolves.toMatchObject({ object: { id: 't-2' } })
    expect(added).toEqual(['t-2'])
  })

  it('resolves with the event as sent, its sensitive values hidden', async () => {
    const { submission } = stepsWith((event) => redactEvent(event, { mode: 'drop' }))
    const sent = await submission.send(created('t-1'), true)
    expect(JSON.stringify(sent)).not.toContain('t-1@example.com')
  })

  it('lets the line move on after an event that does not encode', async () => {
    const { added, submission } = stepsWith(
      (event) => event,
      (event) => {
        if (event.object.id === 'huge')
          throw new EventInvalidError([{ field: 'event', message: 'too large' }])
        return event.object.id
      },
    )
    await expect(submission.send(created('huge'), true)).rejects.toThrow('too large')
    await submission.send(created('t-2'), true)
    expect(added).toEqual(['t-2'])
  })

  describe('a batch', () => {
    it('is refused whole, before any sealing, when one event is bad', async () => {
      let protectedCount = 0
      const { added, submission } = stepsWith((event) => {
        protectedCount++
        return event
      })
      await expect(submission.sendAll([created('t-1'), invalid(), created('t-3')])).rejects.toThrow(
        EventInvalidError,
      )
      expect(protectedCount).toBe(0)
      expect(added).toEqual([])
    })

    it('is refused whole when one event cannot be sealed', async () => {
      const { held, protect } = heldProtection()
      const { added, submission } = stepsWith(protect)
      const batch = submission.sendAll([created('t-1'), created('t-2')])
      await settle()
      held[0]!.release()
      held[1]!.fail(new ProducerError('KEY_STORE_UNAVAILABLE', 'no key', false))
      await expect(batch).rejects.toMatchObject({ code: 'KEY_STORE_UNAVAILABLE' })
      expect(added).toEqual([])
    })

    it('checks the JSON text of events assembled by hand', async () => {
      const { submission } = stepsWith((event) => event)
      await expect(submission.sendAll([{ ...created('t-1'), after: '{not json' }])).rejects.toThrow(
        'after: expected JSON text',
      )
    })

    it('keeps its place in line among single events', async () => {
      const { held, protect } = heldProtection()
      const { added, submission } = stepsWith(protect)
      const single = submission.send(created('t-1'), true)
      const batch = submission.sendAll([created('t-2'), created('t-3')])
      await settle()
      held[1]!.release()
      held[2]!.release()
      await settle()
      expect(added).toEqual([])
      held[0]!.release()
      await Promise.all([single, batch])
      expect(added).toEqual(['t-1', 't-2', 't-3'])
    })
  })

  it('says when everything given so far is in the batch, for flush and close', async () => {
    const { held, protect } = heldProtection()
    const { added, submission } = stepsWith(protect)
    const first = submission.send(created('t-1'), true)
    const second = submission.send(created('t-2'), true).catch((error: unknown) => error)
    let admitted = false
    void submission.admitted().then(() => (admitted = true))
    await settle()
    held[0]!.release()
    await settle()
    expect(admitted).toBe(false)
    held[1]!.fail(new Error('no key'))
    await settle()
    expect(admitted).toBe(true)
    expect(added).toEqual(['t-1'])
    await first
    expect(await second).toMatchObject({ message: 'no key' })
  })
})
