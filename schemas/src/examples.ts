import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { schemasDir } from './contract.js'

/**
 * The reference story of schemas/README.md (ticket 9548-B1: created, priority raised, lowered with
 * a solution), one event per line in the documented JSON form, for tests and demos.
 */
export function ticketExampleLines(): string[] {
  return readFileSync(join(schemasDir, 'examples/ticket-9548-B1.ndjson'), 'utf8').trim().split('\n')
}
