import type { TriggeringEvent } from '../alerts/alertNotice.js'

/** How long one rule may take over one event, and how often it may take longer before it is disabled. */
export type RuleBudgetSettings = {
  /** One rule's evaluation of one event may take this long, ms. */
  budgetMs: number
  /** The overrun that makes this many within `windowMs` disables the rule. */
  overrunLimit: number
  /** The span over which overruns are counted, ms. */
  windowMs: number
}

/** The service's defaults (config.ts): 50 ms, the 5th overrun within a minute disables. */
export const defaultRuleBudget: RuleBudgetSettings = { budgetMs: 50, overrunLimit: 5, windowMs: 60_000 }

/** A rule the budget disabled: what the pipeline alert and the log say about it. */
export type DisabledRule = {
  ruleId: string
  /** Overruns within the window, the last one included. */
  overruns: number
  /** The longest of them, ms. */
  slowestMs: number
  /** The events they happened on, oldest first, with their content digests. */
  events: TriggeringEvent[]
}

/** What one evaluation amounts to: within the budget, over it, or over it once too often. */
export type BudgetVerdict = 'within' | 'overrun' | 'disabled'

/**
 * Keeps each rule to its time budget per event. JavaScript cannot interrupt a synchronous
 * evaluation, so the time is measured after the fact (the caller's clock, injected in tests) and a
 * rule that keeps overrunning is disabled rather than stopped mid-way; what bounds the worst single
 * evaluation is the language (CEL: no loops) and its regular expressions (RE2: linear time).
 * Overruns are counted in a sliding window, so a rare pause of the whole process (a major GC) does
 * not add up to disabling a healthy rule over days. A disabled rule stays disabled until the rules
 * are installed again (a reload or a restart): each installation starts a new budget.
 */
export function createRuleBudget(settings: RuleBudgetSettings) {
  /** Per rule: the recent overruns, oldest first, as [clock ms, elapsed ms, event]. */
  const overruns = new Map<string, [number, number, TriggeringEvent][]>()
  const disabled = new Map<string, DisabledRule>()

  return {
    settings,
    /**
     * Records that `ruleId` took `elapsedMs` over event `eventId`, ending at `atMs` (the caller's
     * clock). `digestOf` gives the event's content digest; asked for only on an overrun.
     */
    record(
      ruleId: string,
      elapsedMs: number,
      atMs: number,
      eventId: string,
      digestOf?: () => string,
    ): BudgetVerdict {
      if (elapsedMs <= settings.budgetMs || disabled.has(ruleId)) return 'within'
      const recent = (overruns.get(ruleId) ?? []).filter(([at]) => atMs - at < settings.windowMs)
      recent.push([atMs, elapsedMs, { eventId, contentDigest: digestOf?.() ?? null }])
      if (recent.length < settings.overrunLimit) {
        overruns.set(ruleId, recent)
        return 'overrun'
      }
      overruns.delete(ruleId)
      disabled.set(ruleId, {
        ruleId,
        overruns: recent.length,
        slowestMs: Math.max(...recent.map(([, elapsed]) => elapsed)),
        events: recent.map(([, , event]) => event),
      })
      return 'disabled'
    },
    isDisabled: (ruleId: string): boolean => disabled.has(ruleId),
    disabledRule: (ruleId: string): DisabledRule | undefined => disabled.get(ruleId),
    /** The rules disabled so far, by id. */
    disabledRules: (): string[] => [...disabled.keys()],
  }
}

export type RuleBudget = ReturnType<typeof createRuleBudget>
