import { isIP } from 'node:net'
import { z } from 'zod'
import { parseSettings } from '@audit-pipeline/config'
import { logLevels, type LogLevel } from './logger.js'

const hostName = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/

/**
 * The environment variables of the ops server and the logger, for a service's own schema to spread
 * into its `z.object({ ...opsEnvShape, … })`. OPS_PORT has no default here because each service
 * has its own; `opsSettingsFrom` applies it.
 */
export const opsEnvShape = {
  /** Address the ops server (/metrics, /healthz, /readyz) listens on. Default 127.0.0.1. */
  OPS_HOST: z
    .string()
    .trim()
    .refine((host) => isIP(host) !== 0 || hostName.test(host), {
      message: 'expected a host name or IP address to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::',
    })
    .default('127.0.0.1'),
  /** TCP port of the ops server, 0..65535; 0 lets the system pick a free one. Default: per service. */
  OPS_PORT: z
    .string()
    .trim()
    .refine((port) => /^\d{1,5}$/.test(port) && Number(port) <= 65535, {
      message: 'expected a port number from 0 to 65535 (0 picks a free port)',
    })
    .transform(Number)
    .optional(),
  /** Least severe level written. Default info. */
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(logLevels, { error: `expected one of: ${logLevels.join(', ')}` }))
    .default('info'),
}

/** What `opsEnvShape` parses to. */
export type OpsEnv = z.infer<z.ZodObject<typeof opsEnvShape>>

export type OpsSettings = { host: string; port: number; logLevel: LogLevel }

export type OpsDefaults = {
  /** The service's own ops port, used when OPS_PORT is unset. */
  defaultPort: number
}

/** Ops settings from variables already parsed with `opsEnvShape` (possibly inside a larger schema). */
export function opsSettingsFrom(parsed: OpsEnv, { defaultPort }: OpsDefaults): OpsSettings {
  return { host: parsed.OPS_HOST, port: parsed.OPS_PORT ?? defaultPort, logLevel: parsed.LOG_LEVEL }
}

/** Reads OPS_HOST, OPS_PORT and LOG_LEVEL from `env`; throws ConfigError naming every bad variable. */
export function loadOpsSettings(env: Record<string, string | undefined>, defaults: OpsDefaults): OpsSettings {
  return opsSettingsFrom(parseSettings(z.object(opsEnvShape), env), defaults)
}
