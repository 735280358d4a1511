import {
  compareDelivery,
  type AcknowledgedEvent,
  type DeliveryReport,
  type ObservedEvent,
} from '@audit-pipeline/testing'

/**
 * What a stage promises: `exactly once` (the ClickHouse view, alerts stored: a second copy is a
 * bug an analyst sees) or `at least once` (webhooks: a repeat after a retry is in the contract,
 * receivers deduplicate by event id or webhook-id).
 */
export type StageContract = 'exactly once' | 'at least once'

export type GateStage = {
  name: string
  contract: StageContract
  expected: readonly AcknowledgedEvent[]
  observed: readonly ObservedEvent[]
}

export type StageVerdict = { name: string; contract: StageContract; report: DeliveryReport; passed: boolean }

export type GateResult = {
  stages: StageVerdict[]
  /** Events the producers could not send: the run is not the one asked for. */
  sendFailures: number
  passed: boolean
}

/**
 * The end-to-end section's correctness gate: each stage holds every event it is owed (nothing
 * lost), nothing nobody sent (nothing unexpected), and no second copy where it promises exactly
 * once; and every event was sent. Pure: the section collects both sides.
 */
export function correctnessGate(stages: readonly GateStage[], sendFailures: number): GateResult {
  const verdicts = stages.map(({ name, contract, expected, observed }) => {
    const report = compareDelivery(expected, observed)
    const passed =
      report.lost === 0 &&
      report.unexpected === 0 &&
      (contract === 'at least once' || report.duplicated === 0)
    return { name, contract, report, passed }
  })
  return {
    stages: verdicts,
    sendFailures,
    passed: sendFailures === 0 && verdicts.every((verdict) => verdict.passed),
  }
}

/** One line per stage: what it was owed and holds, and what is wrong, with a few lost ids to look up. */
export function gateLines(result: GateResult): string[] {
  const count = (value: number) => value.toLocaleString('en-US')
  const lines = result.stages.map(({ name, contract, report, passed }) => {
    const repeats =
      contract === 'at least once' && report.duplicated > 0
        ? ` (repeats allowed: ${count(report.duplicated)})`
        : ''
    const duplicated = contract === 'exactly once' ? `, duplicated ${count(report.duplicated)}` : repeats
    const lost = report.lostSample.length > 0 ? `; lost ids include ${report.lostSample.join(', ')}` : ''
    return (
      `  ${passed ? 'ok    ' : 'FAILED'} ${name} (${contract}): owed ${count(report.acknowledged)}, ` +
      `holds ${count(report.observed)}; lost ${count(report.lost)}${duplicated}, unexpected ${count(report.unexpected)}${lost}`
    )
  })
  if (result.sendFailures > 0) {
    lines.unshift(
      `  FAILED producers: ${count(result.sendFailures)} events could not be sent (not counted as owed)`,
    )
  }
  return lines
}
