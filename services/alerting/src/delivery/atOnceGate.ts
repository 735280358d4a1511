/** Where a receiver's consumer group stands in one partition of the alerts topic, at its first join. */
export type PartitionStanding = {
  partition: number
  /** The next offset it will read: its committed offset, or where a new group starts. */
  from: bigint
  /** The partition's end offset (high watermark). */
  end: bigint
}

/**
 * Whether an alert may go to a receiver at once, as the evaluator raises it, without overtaking
 * an older alert of the same alerts-topic partition that only the receiver's consumer of the
 * topic (the topic path) will send. One alert group's alerts (the same rule, tenant and group
 * key: the same message key) all go to one partition, so keeping each partition's order keeps a
 * resolved notice behind the alert it resolves. A partition is held while:
 *
 * - the receiver's group has a backlog in it from before this process started, until the topic
 *   path finished the records before its end as of the first join (`backlog`). The last offset
 *   below that end may be a transaction marker, which a consumer never sees, so the record before
 *   it is enough: a data record at the very end belongs to a transaction still open, this run's
 *   evaluator's, whose alerts were offered here (below);
 * - an alert of it was declined (the at-once queue was full), until the topic path finished that
 *   alert or reached an alert offered after it (`declined`, `reached`): the evaluator writes a
 *   partition's alerts in the order it offers them, and the topic path reads them in order; an
 *   alert declined and never written (its transaction failed, and evaluating its events again
 *   raised another) holds the partition only until the topic path reaches a later one.
 *
 * Memory: a few entries per partition. Pure: no I/O, no clock.
 */
export class AtOnceGate {
  /** Unknown until the receiver's consumer first joined: every partition is held until then. */
  private standingKnown = false
  /** Per partition: the offset whose record, once finished, ends the backlog. */
  private readonly backlogUntil = new Map<number, bigint>()
  /** Per partition: the last alert declined (with its offer sequence), until the topic path passed it. */
  private readonly lastDeclined = new Map<number, { alertId: string; seq: number }>()
  /** Per partition: the highest offset finished so far (the first join's standing may come after). */
  private readonly finishedTo = new Map<number, bigint>()

  /** At the first join only: later joins resume from commits made while the gate knew. */
  backlog(standings: readonly PartitionStanding[]): void {
    if (this.standingKnown) return
    for (const { partition, from, end } of standings) {
      const until = end - 2n
      const finished = this.finishedTo.get(partition)
      if (from <= until && (finished === undefined || finished < until))
        this.backlogUntil.set(partition, until)
    }
    this.standingKnown = true
  }

  /** May the alert of `partition` offered as number `seq` be sent at once now? (Those offered before a declined one may.) */
  open(partition: number, seq: number): boolean {
    if (!this.standingKnown || this.backlogUntil.has(partition)) return false
    const declined = this.lastDeclined.get(partition)
    return declined === undefined || seq < declined.seq
  }

  /** An alert of `partition`, offered as number `seq`, is left to the topic path. */
  declined(partition: number, alertId: string, seq: number): void {
    this.lastDeclined.set(partition, { alertId, seq })
  }

  /**
   * The topic path reached the record at `offset`: everything before it in `partition` is
   * finished. `seq`: the offer sequence of the alert there, when it was offered here.
   */
  reached(partition: number, offset: bigint, seq?: number): void {
    this.finishedThrough(partition, offset - 1n)
    const declined = this.lastDeclined.get(partition)
    if (declined && seq !== undefined && seq > declined.seq) this.lastDeclined.delete(partition)
  }

  /** The topic path finished the record at `offset` (an alert with `alertId`, if one). */
  finished(partition: number, offset: bigint, alertId: string | undefined): void {
    this.finishedThrough(partition, offset)
    if (alertId !== undefined && this.lastDeclined.get(partition)?.alertId === alertId) {
      this.lastDeclined.delete(partition)
    }
  }

  /** The partitions held now (known ones; before the first join, all are). */
  held(): number[] {
    return [...new Set([...this.backlogUntil.keys(), ...this.lastDeclined.keys()])].sort((a, b) => a - b)
  }

  get known(): boolean {
    return this.standingKnown
  }

  private finishedThrough(partition: number, offset: bigint): void {
    const finishedTo = this.finishedTo.get(partition)
    if (finishedTo === undefined || offset > finishedTo) this.finishedTo.set(partition, offset)
    const until = this.backlogUntil.get(partition)
    if (until !== undefined && offset >= until) this.backlogUntil.delete(partition)
  }
}
