import { EventInvalidError } from '@audit-pipeline/event-model'
import { rejected, type InputAdapter } from './inputAdapter.js'
import { readEventJson } from './eventJsonReader.js'
import { describeJson, isJsonObject } from './jsonObject.js'

/**
 * The documented JSON form (schemas/README.md), one event per message, for producers that cannot
 * use Avro. Declared by `audit-input-format: audit-json`; recognized by an `event_id` or `action`
 * key. Reading is parseEventJson's, so a message is accepted here exactly when
 * `audit-pipeline produce` would accept it as a line, plus the action kind aliases.
 */
export const auditJsonAdapter: InputAdapter = {
  name: 'audit-json',
  shape: 'an object with event_id or action',
  declaredBy: () => false,
  recognizes: (body) => isJsonObject(body) && ('event_id' in body || 'action' in body),
  toEvents({ body }) {
    if (!isJsonObject(body)) {
      return rejected(
        new EventInvalidError([
          { field: '(event)', message: `expected a JSON object, got ${describeJson(body)}` },
        ]),
      )
    }
    const read = readEventJson(body)
    return read.ok ? { status: 'events', drafts: [read.draft] } : rejected(read.error)
  },
}
