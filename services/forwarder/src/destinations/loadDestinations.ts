import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type { Destination } from './destination.js'
import { parseDestinations } from './parseDestinations.js'

/** Reads and checks the destinations file named by FORWARDER_DESTINATIONS_FILE. */
export function loadDestinations(file: string, env: Record<string, string | undefined>): Destination[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new Error(
      `cannot read the destinations file ${file} (FORWARDER_DESTINATIONS_FILE): ${(error as Error).message}`,
    )
  }
  return parseDestinations(text, {
    file,
    env,
    readFile: (path) => readFileSync(path, 'utf8'),
    defaultHostname: hostname(),
  })
}
