import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, it } from 'vitest'
import { defaultDeadLetterTopic, listDeadLetters } from '@audit-pipeline/dead-letter'
import { isAlive, readStackState } from '@audit-pipeline/local-stack'
import { waitFor } from '@audit-pipeline/testing'
import { buildMainJob, buildPackage, startServiceProcess } from '../support/serviceProcess.js'

type Endpoints = { queryApi: { url: string; key: string }; webhookLog: string }
type ApiEvent = {
  actor: { display_name: string | null }
  action: { name: string }
  changes: { path: string; old_value: string | null; new_value: string | null }[]
}
type ApiAlert = { rule: string | null; group_key: string | null; status: string }
type InboxLine = {
  path: string
  verified: boolean
  body: { type?: string; data?: { rule?: string; tenant?: string; group_key?: string } }
}

beforeAll(() => {
  buildPackage('@audit-pipeline/cli')
  // What `npm start` runs: the local stack and every service (the CLI no longer brings the stack in).
  buildMainJob()
}, 300_000)

/**
 * What a new user does: `npm start` in one terminal (its own Kafka, registry and embedded
 * ClickHouse, in a state folder of the test's own), then `npm run demo` in another, which finds
 * the running pipeline. The demo's exit code is its own verdict; this test then checks the same
 * outcome independently: the query API's answers, the signed alerts the local webhook receiver
 * got, and the dead letters on the topic.
 */
describe('the demo', () => {
  it(
    'runs the scenario on npm start: timeline, one alert per rule (one for 60 deletes), dead letters with reasons, all exit 0',
    { timeout: 420_000 },
    async () => {
      const stateDir = join(mkdtempSync(join(tmpdir(), 'demo-')), 'stack')
      // Its own stack: nothing from the run's shared broker or an outer environment.
      const env = {
        AUDIT_STACK_DIR: stateDir,
        KAFKA_BROKERS: undefined,
        SCHEMA_REGISTRY_URL: undefined,
        CLICKHOUSE_URL: undefined,
        CLICKHOUSE_EMBEDDED_PATH: undefined,
        QUERY_API_PORT: undefined,
      }
      const run = startServiceProcess('deploy/local-stack/dist/cli.js', env, ['run'])
      const banner = await waitFor(
        () => run.otherOutput.join('\n').includes('Press Ctrl-C') && run.otherOutput.join('\n'),
        { timeoutMs: 180_000, description: 'npm start to print its status table' },
      )
      expect(banner).toMatch(/clickhouse-sink\+query-api\s+http:\/\/127\.0\.0\.1:\d+/)
      expect(banner).toMatch(/Query API:\s+http:\/\/127\.0\.0\.1:\d+/)

      const demo = startServiceProcess('packages/cli/dist/main.js', env, ['demo'])
      const exitCode = await demo.exited
      const output = demo.otherOutput.join('\n')
      expect(exitCode, output).toBe(0)
      expect(output).toContain('Using the pipeline `npm start` runs')
      expect(output).toMatch(/All \d+ checks passed\./)
      const tenant = /Produced tenant (demo-\S+):/.exec(output)?.[1]
      expect(tenant, output).toBeDefined()

      const endpoints = JSON.parse(readFileSync(join(stateDir, 'pipeline.json'), 'utf8')) as Endpoints
      const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
        const response = await fetch(`${endpoints.queryApi.url}${path}`, {
          ...init,
          headers: {
            authorization: `Bearer ${endpoints.queryApi.key}`,
            'content-type': 'application/json',
          },
        })
        return { status: response.status, body: (await response.json()) as T }
      }

      // The query API: the ticket's timeline with its field-level changes, in order.
      const timeline = await api<{ events: ApiEvent[] }>(
        `/v1/objects/ticket/9548-B1/timeline?tenant=${tenant}`,
      )
      expect(timeline.status).toBe(200)
      expect(timeline.body.events.map((e) => [e.actor.display_name, e.action.name])).toEqual([
        ['Alex Mercer', 'ticket.create'],
        ['Jack Peltrow', 'ticket.update'],
        ['Stefany Ilds', 'ticket.update'],
        ['Stefany Ilds', 'ticket.close'],
      ])
      expect(timeline.body.events[2]?.changes).toContainEqual(
        expect.objectContaining({ path: 'priority', old_value: '"Urgent"', new_value: '"Normal"' }),
      )
      // Alerts as stored in ClickHouse: each rule once; 60 deletes raised one mass-delete alert.
      const alerts = await api<{ alerts: ApiAlert[] }>(`/v1/alerts?tenant=${tenant}`)
      const raised = alerts.body.alerts
        .filter((a) => a.status === 'raised')
        .map((a) => `${a.rule} ${a.group_key}`)
      for (const expected of [
        'priority-lowered-by-non-supervisor 9548-B1',
        'assigned-ticket-deleted-by-assignee ticket/13255A',
        'mass-delete u-3003',
      ]) {
        expect(
          raised.filter((alert) => alert === expected),
          raised.join('\n'),
        ).toHaveLength(1)
      }
      // The read-only SQL endpoint over HTTP: every stored event of the run, and no writes.
      const countStored = () =>
        api<{ rows: { events: string; reads: string }[] }>('/v1/sql', {
          method: 'POST',
          body: JSON.stringify({
            sql: "SELECT countIf(object_type = 'ticket') AS events, countIf(object_type = 'audit_query') AS reads FROM audit_events_deduplicated WHERE tenant = {tenant:String}",
            params: { tenant: tenant! },
          }),
        })
      // The API's own reads of the tenant's data were audited, as events of that tenant. Access
      // records travel the pipeline like any event (Kafka, normalizer, sink), so the newest
      // reads may still be on their way: wait for them with a deadline.
      const counted = await waitFor(
        async () => {
          const answer = await countStored()
          return answer.status !== 200 || Number(answer.body.rows[0]?.reads) > 0 ? answer : undefined
        },
        {
          timeoutMs: 60_000,
          intervalMs: 500,
          description: "the demo's reads to be stored as access records",
        },
      )
      expect(counted.status).toBe(200)
      expect(Number(counted.body.rows[0]?.events)).toBe(4 + 2 + 60)
      expect(Number(counted.body.rows[0]?.reads)).toBeGreaterThan(0)
      const write = await api<{ message: string }>('/v1/sql', {
        method: 'POST',
        body: JSON.stringify({ sql: 'INSERT INTO audit_events (tenant) VALUES (1)' }),
      })
      expect(write.status).toBeGreaterThanOrEqual(400)
      expect(write.status).toBeLessThan(500)

      // What ops received: the same three alerts, each once, every signature verified.
      expect(existsSync(endpoints.webhookLog)).toBe(true)
      const delivered = readFileSync(endpoints.webhookLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as InboxLine)
        .filter((line) => line.path === '/ops' && line.body.data?.tenant === tenant)
      expect(delivered.every((line) => line.verified)).toBe(true)
      const deliveredRaised = delivered
        .filter((line) => line.body.type === 'alert.raised')
        .map((line) => `${line.body.data?.rule} ${line.body.data?.group_key}`)
      expect(deliveredRaised.filter((alert) => alert === 'mass-delete u-3003')).toHaveLength(1)
      expect(deliveredRaised).toContain('priority-lowered-by-non-supervisor 9548-B1')
      expect(deliveredRaised).toContain('assigned-ticket-deleted-by-assignee ticket/13255A')

      // The dead-letter topic: the three malformed messages, each with its reason.
      const stack = readStackState(stateDir)!
      const kafka = new Kafka({
        clientId: 'demo-test',
        brokers: stack.kafka.brokers,
        logLevel: logLevel.NOTHING,
      })
      const { deadLetters } = await listDeadLetters({ kafka, topic: defaultDeadLetterTopic, limit: 1_000 })
      const ours = deadLetters
        .filter((dead) => dead.key?.toString().startsWith(`${tenant}-malformed-`))
        .map((dead) => [dead.key?.toString(), dead.errorClass])
        .sort()
      expect(ours).toEqual([
        [`${tenant}-malformed-1`, 'INPUT_REJECTED'],
        [`${tenant}-malformed-2`, 'EVENT_INVALID'],
        [`${tenant}-malformed-3`, 'EVENT_INVALID'],
      ])

      const servicePids = [...banner.matchAll(/pid (\d+), log/g)].map((match) => Number(match[1]))
      expect(servicePids.length).toBeGreaterThanOrEqual(4)
      run.child.kill('SIGINT')
      expect(await run.exited).toBe(0)
      expect(servicePids.filter(isAlive)).toEqual([])
    },
  )
})
