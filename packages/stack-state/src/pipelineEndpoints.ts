import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { readJsonObject, writeJsonFile } from './jsonFile.js'
import { isAlive } from './processIdentity.js'

/** Where `npm start`'s query API listens and the key it accepts, for the CLI and the demo. */
export type LocalQueryApi = { url: string; key: string }

/** What a running `npm start` offers its users, written to the state folder for the CLI and the demo. */
export type PipelineEndpoints = {
  ownerPid: number
  queryApi: LocalQueryApi
  /** Every webhook the local inbox received, one JSON line each (path, webhook id, verified, body). */
  webhookLog: string
  inboxUrl: string
  /**
   * The key store the normalizer seals with and the query API opens with (FIELD_KEYS_DIR,
   * FIELD_KEYS_KEK_FILE), so `audit-pipeline erase` erases in it without flags.
   */
  fieldKeys?: { directory: string; kekFile: string }
}

export const pipelineEndpointsFile = (stateDir: string): string => join(stateDir, 'pipeline.json')

/** Readable by the owner only: it holds the local query API key. */
export function writePipelineEndpoints(stateDir: string, endpoints: PipelineEndpoints): void {
  writeJsonFile(pipelineEndpointsFile(stateDir), endpoints, { mode: 0o600 })
}

export function removePipelineEndpoints(stateDir: string): void {
  rmSync(pipelineEndpointsFile(stateDir), { force: true })
}

/** The endpoints of the `npm start` running in `stateDir`, if one is. */
export function readRunningPipeline(stateDir: string): PipelineEndpoints | undefined {
  const file = pipelineEndpointsFile(stateDir)
  if (!existsSync(file)) return undefined
  const endpoints = readJsonObject(file, "npm start's endpoints file") as PipelineEndpoints
  return typeof endpoints.ownerPid === 'number' && isAlive(endpoints.ownerPid) ? endpoints : undefined
}
