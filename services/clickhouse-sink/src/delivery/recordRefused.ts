import { AuditError } from '@audit-pipeline/errors'

export const recordRefusedCodes = ['RESERVED_NAMESPACE'] as const
export type RecordRefusedCode = (typeof recordRefusedCodes)[number]

/** A record the sink will not store, whatever ClickHouse would say: it is dead-lettered with this code. */
export class RecordRefusedError extends AuditError<RecordRefusedCode> {
  constructor(code: RecordRefusedCode, message: string) {
    super(code, message, false)
  }
}
