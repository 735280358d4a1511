import type { AuditEvent } from '@audit-pipeline/event-model'
import type { AlertNotice } from '../alerts/alertNotice.js'
import { createEntityStates, unknownEntity, type EntityState } from '../entityState/entityStates.js'
import type { RuleSet } from '../rules/parseRules.js'
import { eventView } from '../rules/eventView.js'
import { createRuleIndex } from './ruleIndex.js'
import {
  createRuleRunner,
  ruleNamespace,
  type GroupEntry,
  type RuleCounters,
  type RuleRunner,
} from './ruleRunner.js'
import { TrackedStore, type StateChange } from './trackedStore.js'
import { createWatermark, type WatermarkState } from './watermark.js'

export type AlertEngineOptions = {
  rules: RuleSet
  /** How far behind the newest event time an event may be and still enter its windows, ms. */
  allowedLatenessMs: number
  /** Groups remembered per rule (least recently active forgotten first). */
  maxGroupsPerRule: number
  /** Objects whose last state is remembered. */
  maxEntities: number
  /** How often, in event time, windows are checked for conditions that cleared (and flatlines), ms. */
  checkIntervalMs: number
  /** A partition read to its end without events for this long (wall clock) stops holding event time back, ms. Default 5000. */
  idlePartitionMs?: number
}

/** What the engine did since the last read, for metrics. */
export type EngineCounters = { evaluated: number; late: number; outOfOrder: number }

/**
 * Evaluates every rule on each event, in event time: no I/O, no clock. Its whole state (windows,
 * entity state, dedup, the watermark) is a set of keyed JSON values; `drainStateChanges` gives
 * what changed since the last call (for the changelog topic) and `restore` loads them back.
 */
export function createAlertEngine(options: AlertEngineOptions) {
  const counters: EngineCounters = { evaluated: 0, late: 0, outOfOrder: 0 }
  const entities = createEntityStates(options.maxEntities)
  const clockStore = new TrackedStore<WatermarkState>('clock', 1)
  const watermark = createWatermark(
    options.allowedLatenessMs,
    options.checkIntervalMs,
    options.idlePartitionMs ?? 5_000,
    clockStore,
  )
  let runners: RuleRunner[] = []
  let index = createRuleIndex([])
  let readsEntity = false
  /** Changelog keys of state nobody owns any more (a rule removed or changed): written as tombstones. */
  let orphaned: string[] = []

  const install = (rules: RuleSet, previous: readonly RuleRunner[]) => {
    const kept = new Map(previous.map((runner) => [ruleNamespace(runner.rule), runner]))
    runners = rules.rules.map((rule) => {
      const same = kept.get(ruleNamespace(rule))
      kept.delete(ruleNamespace(rule))
      return same ?? createRuleRunner(rule, { maxGroups: options.maxGroupsPerRule })
    })
    for (const dropped of kept.values()) {
      for (const key of dropped.store.keys()) orphaned.push(`${dropped.store.namespace}\u0000${key}`)
    }
    readsEntity = runners.some((runner) => runner.rule.readsEntity)
    index = createRuleIndex(runners)
  }
  install(options.rules, [])

  return {
    /**
     * Evaluates one event read from `from.source` (its input partition) at wall-clock `from.nowMs`
     * (both only steer the watermark; tests may leave them out); returns the alerts it raised or
     * resolved (time passing included).
     */
    evaluate(
      event: AuditEvent,
      from: { source: string; nowMs: number } = { source: '', nowMs: 0 },
    ): AlertNotice[] {
      counters.evaluated++
      const time = watermark.observe(event.occurred_at, from.source, from.nowMs)
      if (time.late) counters.late++
      else if (time.outOfOrder) counters.outOfOrder++
      const view = eventView(event)
      const entity: EntityState = readsEntity ? entities.stateOf(event) : unknownEntity
      const context = { event: view.event, changed: view.changed, entity, first: {} }
      const notices: AlertNotice[] = []
      for (const runner of index.candidates(view.event)) {
        const raised = runner.onEvent({ event, context, late: time.late, watermarkMs: time.watermarkMs })
        if (raised.length > 0) notices.push(...raised)
      }
      if (readsEntity) entities.apply(event)
      if (time.checkDue) {
        for (const runner of runners) notices.push(...runner.onTime(time.watermarkMs))
      }
      return notices
    },

    /** The input partitions now read, and which are read to their end (watermark.ts). */
    assignSources: (sources: readonly { source: string; caughtUp: boolean }[], nowMs: number) =>
      watermark.assign(sources, nowMs),
    /** After a batch: whether its partition is read to its end. */
    sourceReadTo: (source: string, caughtUp: boolean, nowMs: number) =>
      watermark.readTo(source, caughtUp, nowMs),

    /** Swaps the rules; rules unchanged (same id and definition) keep their state. */
    replaceRules(rules: RuleSet): void {
      install(rules, runners)
    },

    rules: (): RuleSet['rules'] => runners.map((runner) => runner.rule),

    /** State written or removed since the last call, as changelog entries (null: tombstone). */
    drainStateChanges(): StateChange[] {
      const changes: StateChange[] = orphaned.map((key) => ({ key, value: null }))
      orphaned = []
      changes.push(...clockStore.drainChanges(), ...entities.store.drainChanges())
      for (const runner of runners) changes.push(...runner.store.drainChanges())
      return changes
    },

    /**
     * Loads one changelog entry at start-up. Entries of rules no longer loaded (or loaded with
     * another definition) are orphaned and tombstoned with the next changes.
     */
    restore(changelogKey: string, value: unknown): void {
      const split = changelogKey.indexOf('\u0000')
      const namespace = changelogKey.slice(0, split)
      const key = changelogKey.slice(split + 1)
      if (value === null) return
      if (namespace === 'clock') return watermark.restore(value as WatermarkState)
      if (namespace === 'entity') return entities.store.restore(key, value as EntityState)
      const runner = runners.find((candidate) => candidate.store.namespace === namespace)
      if (runner) runner.restored(key, value as GroupEntry)
      else orphaned.push(changelogKey)
    },

    /** Counters since the last call, per rule and overall; resets them. */
    takeCounters(): { engine: EngineCounters; rules: { ruleId: string; counters: RuleCounters }[] } {
      const engine = { ...counters }
      counters.evaluated = counters.late = counters.outOfOrder = 0
      const rules = runners.map((runner) => {
        const taken = { ...runner.counters }
        for (const name of Object.keys(runner.counters) as (keyof RuleCounters)[]) runner.counters[name] = 0
        return { ruleId: runner.rule.id, counters: taken }
      })
      return { engine, rules }
    },

    /** Entries held, per store: the state-size metric. */
    stateSizes(): { store: string; entries: number }[] {
      return [
        { store: 'entity', entries: entities.store.size },
        ...runners.map((runner) => ({ store: runner.rule.id, entries: runner.store.size })),
      ]
    },

    watermarkMs: () => watermark.current(),
  }
}

export type AlertEngine = ReturnType<typeof createAlertEngine>
