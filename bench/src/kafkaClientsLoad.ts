import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AdapterOptions, KafkaClientAdapter } from './kafkaClientsAdapter.js'
import { confluentAdapter, type ConfluentModule } from './kafkaClientsConfluent.js'
import { contenders, type KafkaClientName } from './kafkaClientsContenders.js'
import { kafkajsAdapter } from './kafkaClientsKafkajs.js'
import { platformaticAdapter, type PlatformaticModule } from './kafkaClientsPlatformatic.js'

/**
 * The adapter of `client`: kafkajs from the bench's own dependencies, a contender from its cache
 * folder (kafkaClientsInstall.ts) by path, the way Node.js would load it from that folder's
 * node_modules: `require` for the CommonJS confluent client, `import` for the ESM-only
 * platformatic one.
 */
export async function loadAdapter(
  client: KafkaClientName,
  folder: string | undefined,
  options: AdapterOptions,
): Promise<KafkaClientAdapter> {
  if (client === 'kafkajs') return kafkajsAdapter(options)
  const contender = contenders.find((candidate) => candidate.name === client)
  if (!contender || folder === undefined) throw new Error(`${client}: no cache folder to load it from`)
  const require = createRequire(join(folder, 'node_modules', 'index.js'))
  // Read from the file: an `exports` map (platformatic's) hides package.json from require.
  const manifest = join(folder, 'node_modules', contender.packageName, 'package.json')
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }
  if (client === 'confluent') {
    return confluentAdapter(require(contender.packageName) as ConfluentModule, version, options)
  }
  const entry = pathToFileURL(require.resolve(contender.packageName)).href
  return platformaticAdapter((await import(entry)) as PlatformaticModule, version, options)
}
