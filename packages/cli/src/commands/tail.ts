import type { QueryIo } from './query.js'
import type { QueryApiClient } from './queryApiClient.js'
import { printEvents } from './query.js'
import type { OutputFormat } from './queryOptions.js'
import type { ApiEvent } from './queryOutput.js'
import { startTail, tailSince, tailStep, type TailSettings, type TailState } from './tailWindow.js'

export type TailOptions = TailSettings & {
  filters: URLSearchParams
  format: Exclude<OutputFormat, 'csv'> | 'csv'
  intervalMs: number
}

export type TailDependencies = {
  now: () => number
  /** Resolves after `ms`, or early when the tail is stopped. */
  sleep: (ms: number) => Promise<void>
  /** True once the user asked to stop (Ctrl-C). */
  stopped: () => boolean
}

/**
 * `audit-pipeline tail`: follows new events through the query API's search, polling every
 * `intervalMs` for what occurred since the newest event seen (less the look-back), so the key's
 * role and tenants apply as for any other query. Prints events as they appear, oldest first.
 */
export async function tailCommand(
  options: TailOptions,
  client: QueryApiClient,
  io: QueryIo,
  deps: TailDependencies,
): Promise<number> {
  let state: TailState = startTail(deps.now())
  io.err('following new events; Ctrl-C stops')
  let headerShown = false
  while (!deps.stopped()) {
    const events = await poll(client, options, state)
    const step = tailStep(state, events, options)
    state = step.state
    if (step.fresh.length > 0) {
      if (options.format === 'json') printEvents(step.fresh, 'json', io)
      else {
        const lines: string[] = []
        printEvents(step.fresh, options.format, { ...io, out: (line) => lines.push(line) })
        for (const line of headerShown ? lines.slice(1) : lines) io.out(line)
        headerShown = true
      }
    }
    await deps.sleep(options.intervalMs)
  }
  return 0
}

async function poll(client: QueryApiClient, options: TailOptions, state: TailState): Promise<ApiEvent[]> {
  const events: ApiEvent[] = []
  let cursor: string | null = null
  do {
    const query = new URLSearchParams(options.filters)
    query.set('since', tailSince(state, options).toISOString())
    query.set('order', 'asc')
    query.set('limit', '1000')
    if (cursor) query.set('cursor', cursor)
    const page: { events: ApiEvent[]; next_cursor: string | null } = await client.get('/v1/events', query)
    events.push(...page.events)
    cursor = page.next_cursor
  } while (cursor)
  return events
}
