// What other packages (the benchmark) build the alerting service from.
export { createAlertEngine, type AlertEngine, type AlertEngineOptions } from './engine/alertEngine.js'
export { parseRules, type RuleSet } from './rules/parseRules.js'
export { RulesConfigError } from './rules/rulesConfigError.js'
export { alertPayloadOf, type AlertPayload, type TriggeringEventPayload } from './alerts/alertEvent.js'
export type { AlertNotice, TriggeringEvent } from './alerts/alertNotice.js'
export { loadAlertingConfig, type AlertingConfig } from './config.js'
export { createAlertingMetrics, type AlertingMetrics } from './metrics.js'
export { createAlertingService, type AlertingService } from './service/alertingService.js'
