import type { ApiEvent } from './queryOutput.js'

/**
 * What `tail` remembers between polls. It asks for events that occurred since the newest it has
 * seen, less `lookbackMs`, because an event reaches ClickHouse some time after it occurred (the
 * pipeline's lag, a producer's clock): anything later than that is missed. Events already shown
 * are recognised by id, the ids of the last `rememberedIds` events being kept.
 */
export type TailState = {
  /** The newest occurred_at seen, ms. */
  watermarkMs: number
  shown: ReadonlySet<string>
  /** Ids in the order they were shown, to forget the oldest. */
  order: readonly string[]
}

export type TailSettings = { lookbackMs: number; rememberedIds: number }

export function startTail(nowMs: number): TailState {
  return { watermarkMs: nowMs, shown: new Set(), order: [] }
}

/** The `since` of the next poll. */
export function tailSince(state: TailState, settings: TailSettings): Date {
  return new Date(state.watermarkMs - settings.lookbackMs)
}

/** The events of a poll that were not shown yet (to print, in order), and the next state. */
export function tailStep(
  state: TailState,
  events: readonly ApiEvent[],
  settings: TailSettings,
): { fresh: ApiEvent[]; state: TailState } {
  const fresh = events.filter((event) => !state.shown.has(event.event_id))
  if (fresh.length === 0) return { fresh, state }
  const order = [...state.order, ...fresh.map((event) => event.event_id)].slice(-settings.rememberedIds)
  const watermarkMs = Math.max(state.watermarkMs, ...fresh.map((event) => Date.parse(event.occurred_at)))
  return { fresh, state: { watermarkMs, shown: new Set(order), order } }
}
