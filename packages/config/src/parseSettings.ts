import type { z } from 'zod'
import { ConfigError } from './configError.js'

type Env = Record<string, string | undefined>

/**
 * Parses `env` with a zod object schema whose keys are the variable names, turning every issue
 * into a ConfigError that names the variable and what it accepts.
 */
export function parseSettings<Schema extends z.ZodType>(
  schema: Schema,
  env: Env,
  source = 'environment',
): z.infer<Schema> {
  // Empty strings mean "unset": `FOO= npm start` should not count as a value.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  )
  const result = schema.safeParse(cleaned)
  if (result.success) return result.data
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      setting: issue.path.map(String).join('.') || '(settings)',
      message: issue.message,
    })),
    source,
  )
}
