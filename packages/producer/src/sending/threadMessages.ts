import type { KafkaConfig } from 'kafkajs'
import type { ProducerErrorCode } from '../producerError.js'

/** What the sending thread is started with. */
export type SendThreadData = { config: KafkaConfig; topic: string; lanes: number; brokers?: string[] }

/** The caller's thread to the sending thread. A batch travels packed (messagePack.ts), transferred. */
export type SendThreadRequest =
  | { type: 'connect'; id: number }
  | { type: 'send'; id: number; lane: number; packed: ArrayBuffer }
  | { type: 'disconnect'; id: number }

/** A ProducerError as it crosses threads: its code, message and whether a retry may succeed. */
export type ThreadError = { code: ProducerErrorCode; message: string; retriable: boolean }

export type SendThreadReply = { id: number; ok: true } | { id: number; ok: false; error: ThreadError }
