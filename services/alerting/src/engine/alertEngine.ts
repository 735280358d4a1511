import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import type { AlertNotice } from '../alerts/alertNotice.js'
import { ruleDisabledNotice } from '../alerts/pipelineAlerts.js'
import { createEntityStates, unknownEntity, type EntityState } from '../entityState/entityStates.js'
import type { RuleSet } from '../rules/parseRules.js'
import { eventView } from '../rules/eventView.js'
import { createRuleBudget, defaultRuleBudget, type RuleBudgetSettings } from './ruleBudget.js'
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
  /** Each rule's time budget per event (ruleBudget.ts). Default defaultRuleBudget. */
  ruleBudget?: RuleBudgetSettings
  /** Measures rules' evaluation time: a monotonic clock in ms. Default performance.now; tests inject one. */
  clock?: () => number
}

/** What the engine did since the last read, for metrics. */
export type EngineCounters = {
  evaluated: number
  late: number
  outOfOrder: number
  /** State entries changed outside an event that could not be written when drained, and were forgotten (a bug). */
  unwritable: number
}

/**
 * Evaluates every rule on each event, in event time: no I/O, and no clock but the one that times
 * rules against their budget. Its whole state (windows, entity state, dedup, the watermark) is a
 * set of keyed JSON values; `sealStateChanges` turns what an event changed into changelog text (or
 * fails, and `forgetUnsealedChanges` drops it), `drainStateChanges` gives what changed since the
 * last call (for the changelog topic) and `restore` loads them back.
 */
export function createAlertEngine(options: AlertEngineOptions) {
  const counters: EngineCounters = { evaluated: 0, late: 0, outOfOrder: 0, unwritable: 0 }
  const clock = options.clock ?? (() => performance.now())
  const budgetSettings = options.ruleBudget ?? defaultRuleBudget
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
  let budget = createRuleBudget(budgetSettings)
  let readsEntity = false
  /** Changelog keys of state nobody owns any more (a rule removed or changed): written as tombstones. */
  let orphaned: string[] = []
  /**
   * Alerts about the pipeline itself (a rule disabled), not taken yet. Kept apart from the
   * alerts an event raised: they stand whatever becomes of that event.
   */
  let pipelineAlerts: AlertNotice[] = []

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
    // Installing rules (a reload) gives every rule a new budget: disabled ones run again.
    budget = createRuleBudget(budgetSettings)
  }
  const enabled = (runner: RuleRunner) => !budget.isDisabled(runner.rule.id)
  /** Every store, in the changelog's order: event time, entity state, the rules'. */
  const stores = (): TrackedStore<object>[] => [
    clockStore,
    entities.store,
    ...runners.map((runner) => runner.store),
  ]
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
      // Computed only when a rule keeps the event or names it in an alert, once for all of them:
      // over the event as decoded from the input, which is what the sink stores.
      let digest: string | undefined
      const digestOf = () => (digest ??= contentDigest(event))
      const notices: AlertNotice[] = []
      // One clock reading per rule: each rule's time runs from the previous one's end.
      let mark = clock()
      for (const runner of index.candidates(view.event)) {
        const raised = runner.onEvent({
          event,
          digest: digestOf,
          context,
          late: time.late,
          watermarkMs: time.watermarkMs,
        })
        if (raised.length > 0) notices.push(...raised)
        const ended = clock()
        const verdict = budget.record(runner.rule.id, ended - mark, ended, event.event_id, digestOf)
        mark = ended
        if (verdict === 'within') continue
        runner.counters.budgetExceeded++
        const disabled = verdict === 'disabled' && budget.disabledRule(runner.rule.id)
        if (disabled) {
          // The index in hand stays valid for the rest of this event; the next one goes without it.
          index = createRuleIndex(runners.filter(enabled))
          pipelineAlerts.push(ruleDisabledNotice(runner.rule, disabled, budgetSettings, event.occurred_at))
        }
      }
      if (readsEntity) entities.apply(event)
      if (time.checkDue) {
        for (const runner of runners) if (enabled(runner)) notices.push(...runner.onTime(time.watermarkMs))
      }
      return notices
    },

    /**
     * Turns the rules' and entity state changes since the last call into changelog text, all or
     * none: throws StateNotWritableError (stateEntryText.ts) when one entry cannot be written,
     * leaving them unsealed for `forgetUnsealedChanges`. Called after each event, so a failure is
     * that event's. Event time is sealed when drained: it holds numbers and partition names, nothing
     * an event's data could make unwritable, and it changes with nearly every event.
     */
    sealStateChanges(): void {
      let prepared: [TrackedStore<object>, [string, string | null][]][] | undefined
      const prepare = (store: TrackedStore<object>) => {
        if (store.hasUnsealed) (prepared ??= []).push([store, store.prepareSeal()])
      }
      prepare(entities.store)
      for (const runner of runners) prepare(runner.store)
      for (const [store, texts] of prepared ?? []) store.acceptSeal(texts)
    },

    /**
     * Drops what the rules and entity state changed since the last seal (an event that failed, or
     * whose state cannot be written): those entries are forgotten in memory and tombstoned in the
     * changelog, so the two never disagree. The groups involved start afresh, as after an eviction.
     * Event time is kept. Returns the entries forgotten.
     */
    forgetUnsealedChanges(): number {
      let forgotten = entities.store.forgetUnsealed()
      for (const runner of runners) forgotten += runner.store.forgetUnsealed()
      return forgotten
    },

    /** The rules the time budget disabled, by id (until the rules are installed again). */
    disabledRules: (): string[] => budget.disabledRules(),

    /**
     * Alerts about the pipeline raised since the last call (`pipeline.rule-disabled`,
     * pipelineAlerts.ts); taken after each event, whether it was evaluated or dead-lettered.
     */
    takePipelineAlerts(): readonly AlertNotice[] {
      if (pipelineAlerts.length === 0) return noAlerts
      const taken = pipelineAlerts
      pipelineAlerts = []
      return taken
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

    /**
     * State written or removed since the last call, as changelog entries (JSON text; null:
     * tombstone). What is not sealed yet (event time moved between events) is sealed first, or
     * forgotten if it cannot be written.
     */
    drainStateChanges(): StateChange[] {
      const changes: StateChange[] = orphaned.map((key) => ({ key, value: null }))
      orphaned = []
      for (const store of stores()) {
        try {
          store.seal()
        } catch {
          // Not an event's (those are sealed after each one): forgotten as forgetUnsealedChanges
          // does, and counted for the service to report.
          counters.unwritable += store.forgetUnsealed()
        }
        changes.push(...store.drainChanges())
      }
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
      counters.evaluated = counters.late = counters.outOfOrder = counters.unwritable = 0
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

/** Taken after every event, and nearly always empty: one shared empty list. */
const noAlerts: readonly AlertNotice[] = []
