/** ProducerPerformance's summary of a whole run (or of its steady state, after `--warmup-records`). */
export type ProducerPerfSummary = {
  records: number
  recordsPerSecond: number
  megabytesPerSecond: number
  avgLatencyMs: number
  maxLatencyMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  p999Ms: number
}

export type ProducerPerfResult = { total: ProducerPerfSummary; steadyState?: ProducerPerfSummary }

// "500000 records sent, 149432.157800 records/sec (85.51 MB/sec), 269.90 ms avg latency, 581.00 ms
// max latency, 231 ms 50th, 505 ms 95th, 555 ms 99th, 567 ms 99.9th." The progress lines printed
// every 5 s have no percentiles, so they never match. A run that sent nothing says "NaN ms avg latency".
const summaryLine =
  /^(\d+) (steady state )?records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+|NaN) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$/

/**
 * Reads what `org.apache.kafka.tools.ProducerPerformance` printed on stdout: the summary of the
 * complete run, and the steady state's when it was run with `--warmup-records`. Throws, quoting
 * the output, when there is no summary (the tool was stopped). A tool that could not send says
 * so in `records` (it exits 0 having sent none): the caller compares it with what it asked for.
 */
export function parseProducerPerformance(stdout: string): ProducerPerfResult {
  let total: ProducerPerfSummary | undefined
  let steadyState: ProducerPerfSummary | undefined
  for (const line of stdout.split('\n')) {
    const match = summaryLine.exec(line.trim())
    if (!match) continue
    const [records, steady, perSecond, megabytes, avg, max, p50, p95, p99, p999] = match.slice(1)
    const summary: ProducerPerfSummary = {
      records: Number(records),
      recordsPerSecond: Number(perSecond),
      megabytesPerSecond: Number(megabytes),
      avgLatencyMs: Number(avg),
      maxLatencyMs: Number(max),
      p50Ms: Number(p50),
      p95Ms: Number(p95),
      p99Ms: Number(p99),
      p999Ms: Number(p999),
    }
    if (steady) steadyState = summary
    else total = summary
  }
  if (!total) throw new Error(`ProducerPerformance printed no summary line:\n${lastLines(stdout)}`)
  return steadyState ? { total, steadyState } : { total }
}

/** ConsumerPerformance's one line of figures (its header's columns). */
export type ConsumerPerfSummary = {
  megabytes: number
  megabytesPerSecond: number
  records: number
  /** Over the whole run, the group's join (rebalance) included. */
  recordsPerSecond: number
  rebalanceMs: number
  fetchMs: number
  /** Over the fetching alone, after the join. */
  fetchRecordsPerSecond: number
  /** Lines the tool printed besides its figures, such as its warning when it timed out. */
  warnings: string[]
}

const consumerColumns = {
  megabytes: 'data.consumed.in.MB',
  megabytesPerSecond: 'MB.sec',
  records: 'data.consumed.in.nMsg',
  recordsPerSecond: 'nMsg.sec',
  rebalanceMs: 'rebalance.time.ms',
  fetchMs: 'fetch.time.ms',
  fetchRecordsPerSecond: 'fetch.nMsg.sec',
} as const

/**
 * Reads what `org.apache.kafka.tools.ConsumerPerformance` printed on stdout: a header naming its
 * columns (`start.time, end.time, data.consumed.in.MB, …`) and, after it, one line of figures;
 * anything between (its warning when it gave up waiting) is kept as a warning. Throws, quoting the
 * output, when the header or a column is missing.
 */
export function parseConsumerPerformance(stdout: string): ConsumerPerfSummary {
  const lines = stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  const headerAt = lines.findIndex((line) => line.startsWith('start.time, '))
  const header = headerAt < 0 ? undefined : lines[headerAt]!.split(', ')
  const after = lines.slice(headerAt + 1)
  const figures = after.find((line) => line.split(', ').length === header?.length)
  if (!header || figures === undefined) {
    throw new Error(`ConsumerPerformance printed no header and figures:\n${lastLines(stdout)}`)
  }
  const values = figures.split(', ')
  const column = (name: string) => {
    const value = Number(values[header.indexOf(name)])
    if (!header.includes(name) || !Number.isFinite(value)) {
      throw new Error(`ConsumerPerformance printed no number for ${name}:\n${lastLines(stdout)}`)
    }
    return value
  }
  const summary = Object.fromEntries(
    Object.entries(consumerColumns).map(([key, name]) => [key, column(name)]),
  ) as Omit<ConsumerPerfSummary, 'warnings'>
  return { ...summary, warnings: after.filter((line) => line !== figures) }
}

function lastLines(text: string, count = 10): string {
  return (
    text
      .trimEnd()
      .split('\n')
      .slice(-count)
      .map((line) => `  ${line}`)
      .join('\n') || '  (nothing)'
  )
}
