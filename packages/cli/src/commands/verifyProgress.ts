import cliProgress from 'cli-progress'
import type { VerifyProgress } from '@audit-pipeline/verification'

/** Below this many rows in a phase, verification is over before a bar would be worth drawing. */
export const progressBarMinRows = 50_000

export type ProgressDisplay = { update(progress: VerifyProgress): void; stop(): void }

/**
 * A progress bar on `stream` (stderr) while verify reads events and checks chains, one bar per
 * tenant and phase; nothing when `stream` is not a terminal (a pipe or a log file gets the
 * summary only) or a phase is short.
 */
export function progressDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  if (!stream.isTTY) return { update: () => undefined, stop: () => undefined }
  let bar: cliProgress.SingleBar | undefined
  let shown: string | undefined
  const stop = () => {
    bar?.stop()
    bar = undefined
    shown = undefined
  }
  return {
    update(progress) {
      const label = `${progress.phase === 'events' ? 'events ' : 'entries'} ${progress.tenant}`
      if (label !== shown) {
        stop()
        if (progress.total < progressBarMinRows) return
        shown = label
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: '{label} [{bar}] {percentage}% {value}/{total} ETA {eta_formatted}',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        )
        bar.start(progress.total, progress.done, { label })
        return
      }
      bar?.setTotal(Math.max(progress.total, progress.done))
      bar?.update(progress.done, { label })
    },
    stop,
  }
}
