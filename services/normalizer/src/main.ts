#!/usr/bin/env node
// The normalizer process: configuration, clients, service, ops server, signals. Everything it
// wires is a module a test can build without a process (normalizer.ts).
import { checkReadableFiles } from '@audit-pipeline/config'
import { createKafka, kafkaLogsTo, waitForCodec } from '@audit-pipeline/kafka'
import {
  configOrExit,
  createLogger,
  createMetricsRegistry,
  exitAfterStartFailure,
  serveService,
} from '@audit-pipeline/service-runtime'
import { loadNormalizerConfig } from './config.js'
import { createNormalizer } from './normalizer.js'
import { createNormalizerMetrics } from './metrics.js'

const config = configOrExit('audit-normalizer', () => {
  const loaded = loadNormalizerConfig(process.env)
  // The service reads the routes itself (and again on SIGHUP); a file it cannot read is
  // configuration too, exit code 2 like a file with problems.
  checkReadableFiles({ NORMALIZER_ROUTES_FILE: loaded.routesFile })
  return loaded
})

const log = createLogger({ service: 'normalizer', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'normalizer' })
const metrics = createNormalizerMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })

try {
  const codec = await waitForCodec(
    config.schemaRegistry,
    {
      autoRegister: config.autoRegisterSchema,
      // The normalizer checks sizes itself, to dead-letter with its own limit and message.
      maxEventBytes: Number.MAX_SAFE_INTEGER,
    },
    { log, outage: config.consumer.outage },
  )
  const normalizer = createNormalizer({ config, kafka, codec, metrics, log })
  await serveService({
    service: { ...normalizer, reload: () => normalizer.reloadRoutes() },
    ops: config.ops,
    registry,
    log,
    readyDetails: { schemaId: codec.schemaId },
  })
} catch (error) {
  // Start-up errors say what is wrong: a routes file's problems (file:line:column, exit code 2),
  // an unreachable broker (exit code 1).
  exitAfterStartFailure('audit-normalizer', log, error)
}
