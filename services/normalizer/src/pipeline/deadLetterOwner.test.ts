import { describe, expect, it } from 'vitest'
import { parseEventJson } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { parseRedactionPolicy } from '../redaction/redactionPolicy.js'
import { ownerOfRecord, ownersOfJsonMessage } from './deadLetterOwner.js'

const policy = parseRedactionPolicy(
  `
default: { method: drop }
tenants:
  witify: { method: encrypt }
  acme: { method: encrypt, subject: record }
  globex: { method: encrypt, subject: "attribute:customer_id" }
  initech: { method: hash }
`,
  'redaction.yaml',
  { fieldKeys: true, hmacKey: 'k' },
)

const ticket = () => JSON.parse(ticketExampleLines()[1] ?? '') as Record<string, unknown>
const json = (body: unknown) => Buffer.from(JSON.stringify(body))
const owners = (body: unknown) => ownersOfJsonMessage(json(body), policy)

describe('ownersOfJsonMessage', () => {
  it("names the tenant and the subject of the tenant's rule: the actor by default", () => {
    expect(owners(ticket())).toEqual([{ tenant: 'witify', subject: 'u-1002' }])
  })

  it('reads what is there in a record refused for the rest, its ids trimmed as normalization trims them', () => {
    expect(owners({ tenant: ' witify ', actor: { id: ' u-7 ' }, occurred_at: 'yesterday' })).toEqual([
      {
        tenant: 'witify',
        subject: 'u-7',
      },
    ])
    expect(owners({ tenant: 'acme', object: { type: ' ticket', id: '9548-B1 ' } })).toEqual([
      {
        tenant: 'acme',
        subject: 'ticket/9548-B1',
      },
    ])
  })

  it('takes the attribute of an attribute rule, and the record without it, as subjectOf does', () => {
    const record = { tenant: 'globex', object: { type: 'order', id: 'o-1' } }
    expect(owners({ ...record, attributes: { customer_id: 'c-42' } })).toEqual([
      {
        tenant: 'globex',
        subject: 'c-42',
      },
    ])
    expect(owners({ ...record, attributes: { customer_id: '' } })).toEqual([
      {
        tenant: 'globex',
        subject: 'order/o-1',
      },
    ])
    expect(owners(record)).toEqual([{ tenant: 'globex', subject: 'order/o-1' }])
  })

  it('never takes an inherited member for an attribute', () => {
    const inherited = parseRedactionPolicy(
      'tenants: { globex: { method: encrypt, subject: "attribute:constructor" } }',
      'redaction.yaml',
      { fieldKeys: true },
    )
    const body = json({ tenant: 'globex', attributes: {}, object: { type: 'order', id: 'o-1' } })
    expect(ownersOfJsonMessage(body, inherited)).toEqual([{ tenant: 'globex', subject: 'order/o-1' }])
  })

  it('attributes nothing it cannot: not JSON, no tenant, a tenant that does not encrypt, no subject', () => {
    expect(ownersOfJsonMessage(Buffer.from('ticket 9548-B1 deleted'), policy)).toBeUndefined()
    expect(ownersOfJsonMessage(Buffer.from([0xff, 0xfe, 0x00]), policy)).toBeUndefined()
    expect(owners({ ...ticket(), tenant: undefined })).toBeUndefined()
    expect(owners({ ...ticket(), tenant: '  ' })).toBeUndefined()
    expect(owners({ ...ticket(), tenant: 42 })).toBeUndefined()
    expect(owners({ ...ticket(), tenant: 'initech' })).toBeUndefined()
    expect(owners({ ...ticket(), tenant: 'unlisted' })).toBeUndefined()
    expect(owners({ ...ticket(), actor: null })).toBeUndefined()
    expect(owners({ ...ticket(), actor: { id: ' ' } })).toBeUndefined()
    expect(owners({ tenant: 'acme', object: { type: 'ticket' } })).toBeUndefined()
    expect(owners('witify')).toBeUndefined()
    expect(owners(null)).toBeUndefined()
  })

  it('reads the record in a structured CloudEvent, in data or data_base64', () => {
    const envelope = { specversion: '1.0', id: 'e-1', source: '/helpdesk', type: 'ticket.update' }
    expect(owners({ ...envelope, data: ticket() })).toEqual([{ tenant: 'witify', subject: 'u-1002' }])
    const base64 = Buffer.from(JSON.stringify(ticket())).toString('base64')
    expect(owners({ ...envelope, data_base64: base64 })).toEqual([{ tenant: 'witify', subject: 'u-1002' }])
    expect(owners({ ...envelope, data_base64: 'not json' })).toBeUndefined()
    expect(owners({ ...envelope, data: 'a string' })).toBeUndefined()
  })

  it('gives a batch the owners of its events, each once, whatever it mixes', () => {
    const envelope = { specversion: '1.0', id: 'e-1', source: '/helpdesk', type: 'ticket.update' }
    const jack = { ...envelope, data: ticket() }
    const alex = { ...envelope, data: { ...ticket(), actor: { id: 'u-1001' } } }
    expect(owners([jack, jack])).toEqual([{ tenant: 'witify', subject: 'u-1002' }])
    expect(owners([jack, alex, jack])).toEqual([
      { tenant: 'witify', subject: 'u-1002' },
      { tenant: 'witify', subject: 'u-1001' },
    ])
    // JSON-form events too, of several tenants; one that cannot be attributed leaves the others.
    const atAcme = { ...ticket(), tenant: 'acme', object: { type: 'ticket', id: '9548-B1' } }
    expect(owners([ticket(), atAcme, { ...envelope, data: 'nothing' }])).toEqual([
      { tenant: 'witify', subject: 'u-1002' },
      { tenant: 'acme', subject: 'ticket/9548-B1' },
    ])
    expect(owners([{ ...envelope, data: 'nothing' }])).toBeUndefined()
    expect(owners([])).toBeUndefined()
  })

  it('attributes a message nested far too deep to be read, without overflowing the stack', () => {
    const deep = `${'['.repeat(200_000)}1${']'.repeat(200_000)}`
    const text = JSON.stringify(ticket()).replace('"after":{', `"after":{"deep":${deep},`)
    expect(ownersOfJsonMessage(Buffer.from(text), policy)).toEqual([{ tenant: 'witify', subject: 'u-1002' }])
  })
})

describe('ownerOfRecord', () => {
  it('attributes an Avro message by the event it decodes to', () => {
    expect(ownerOfRecord(parseEventJson(ticket()), policy)).toEqual({ tenant: 'witify', subject: 'u-1002' })
    expect(ownerOfRecord({ ...parseEventJson(ticket()), tenant: 'initech' }, policy)).toBeUndefined()
  })
})
