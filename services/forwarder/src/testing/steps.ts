import {
  committableOf,
  fakeRuntimeContext,
  positionsOf,
  type KafkaRecord,
  type ProcessingStep,
  type RuntimeContext,
  type StreamMessage,
} from '@audit-pipeline/kafka'
import { createLogger } from '@audit-pipeline/service-runtime'

/** For unit tests of the destination's steps: records, a fake runtime context, a collecting last step. Not part of the build. */

export const inputTopic = 'audit.forward'

/** A consumed record at `offset` of `partition`, its value `value`. */
export function kafkaRecord(
  offset: number,
  options: { partition?: number; value?: Buffer | null; topic?: string } = {},
): KafkaRecord {
  return {
    topic: options.topic ?? inputTopic,
    partition: options.partition ?? 0,
    offset: String(offset),
    key: Buffer.from(`key-${offset}`),
    value: options.value === undefined ? Buffer.from(`value-${offset}`) : options.value,
    headers: { 'x-test': 'yes' },
    timestamp: '1710594720250',
  }
}

/** `payload` as the runtime would hand it on for one record: committing it commits the offset after `record`. */
export function messageOf<T>(payload: T, record: Pick<KafkaRecord, 'topic' | 'partition' | 'offset'>) {
  return { payload, committable: committableOf(record) } satisfies StreamMessage<T>
}

/** `topic/partition@offset` for each position: what a test compares commits by. */
export const positions = positionsOf

export const silentLog = createLogger({ service: 'forwarder-test', level: 'silent' })

/** The shared fake runtime context (packages/kafka), logging nowhere. */
export function fakeContext(overrides: Partial<RuntimeContext> = {}) {
  return fakeRuntimeContext(silentLog, overrides)
}

/** A last step that keeps what it is given (payload and committed positions) and the calls it had. */
export function collector<T>() {
  const received: { payload: T; positions: string[] }[] = []
  const calls: string[] = []
  const step: ProcessingStep<T> = {
    submit: (message) => {
      received.push({ payload: message.payload, positions: positions(message.committable.values()) })
      return Promise.resolve()
    },
    poll: () => (calls.push('poll'), Promise.resolve()),
    join: () => (calls.push('join'), Promise.resolve()),
    close: () => (calls.push('close'), Promise.resolve()),
  }
  return { step, received, calls }
}
