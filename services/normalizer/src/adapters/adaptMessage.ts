import { TextDecoder } from 'node:util'
import { headerValue, type InputMessage } from './inputMessage.js'
import {
  inputFormatHeader,
  type AdapterInput,
  type AdapterOutcome,
  type InputAdapter,
} from './inputAdapter.js'
import { InputRejectedError } from './inputRejectedError.js'

/** How the adapter was chosen: named by a header, or recognized by the body's shape. */
export type Detection = 'header' | 'shape'

export type AdaptedMessage = AdapterOutcome & {
  /** The adapter that read the message; null when none was chosen (tombstone, not JSON, unrecognized). */
  adapter: string | null
  detectedBy: Detection | null
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Reads one non-Avro message with the adapter it declares or, failing that, the first whose
 * shape it has (in the order given). Order of decisions:
 *
 * 1. A null value is a tombstone: skipped, whatever the topic.
 * 2. The `audit-input-format` header names an adapter; an unknown name is refused (a typo must not
 *    fall through to guessing). Otherwise the first adapter that `declaredBy` the headers.
 * 3. The value is parsed as UTF-8 JSON, once for all adapters.
 * 4. No declaration: the first adapter that `recognizes` the body.
 *
 * Never throws: an adapter that throws anyway is reported as ADAPTER_FAILED with the cause.
 */
export function adaptMessage(
  message: InputMessage,
  adapters: readonly InputAdapter[],
  options: Pick<AdapterInput, 'sensitiveFieldsOf'> = {},
): AdaptedMessage {
  if (message.value === null)
    return { status: 'skipped', reason: 'TOMBSTONE', adapter: null, detectedBy: null }

  const named = headerValue(message.headers, inputFormatHeader)?.trim()
  let declared: InputAdapter | undefined
  if (named !== undefined) {
    declared = adapters.find((adapter) => adapter.name === named)
    if (declared === undefined) {
      return refused(
        new InputRejectedError(
          'UNKNOWN_FORMAT',
          null,
          `header ${inputFormatHeader}`,
          `names no input format: expected one of: ${adapters.map((a) => a.name).join(', ')}`,
        ),
      )
    }
  } else {
    declared = adapters.find((adapter) => adapter.declaredBy(message.headers))
  }

  const body = parseJson(message.value, declared?.name ?? null)
  if (body instanceof InputRejectedError) return refused(body)

  const adapter = declared ?? adapters.find((candidate) => candidate.recognizes(body))
  if (adapter === undefined) {
    return refused(
      new InputRejectedError(
        'UNRECOGNIZED_SHAPE',
        null,
        '(value)',
        `no ${inputFormatHeader} or content-type header named the format, and the JSON matches none of: ${adapters.map((a) => `${a.name} (${a.shape})`).join('; ')}`,
      ),
    )
  }
  const detectedBy: Detection = declared ? 'header' : 'shape'
  try {
    const input: AdapterInput = { body, headers: message.headers, ...options }
    return { ...adapter.toEvents(input), adapter: adapter.name, detectedBy }
  } catch (error) {
    const failure = new InputRejectedError(
      'ADAPTER_FAILED',
      adapter.name,
      '(value)',
      'the adapter threw instead of answering (a bug in the adapter)',
      { cause: error },
    )
    return { status: 'rejected', error: failure, adapter: adapter.name, detectedBy }
  }
}

function refused(error: InputRejectedError): AdaptedMessage {
  return {
    status: 'rejected',
    error,
    adapter: error.adapter,
    detectedBy: error.adapter === null ? null : 'header',
  }
}

/**
 * The value as JSON. The parser's message is kept only as the cause: V8 quotes the text around
 * the error, and the text is personal data.
 */
function parseJson(value: Buffer, adapter: string | null): unknown {
  if (value[0] === 0) {
    return new InputRejectedError(
      'NOT_JSON',
      adapter,
      '(value)',
      'starts with byte 0, the Confluent Avro magic byte: Avro values are read by the codec, not the JSON adapters',
    )
  }
  try {
    return JSON.parse(utf8.decode(value)) as unknown
  } catch (error) {
    return new InputRejectedError(
      'NOT_JSON',
      adapter,
      '(value)',
      `is not UTF-8 JSON text (${value.length} bytes)`,
      { cause: error },
    )
  }
}
