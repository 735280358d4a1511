/**
 * The header the normalizer puts, with the value `1`, on the outputs of an event kept at temporal
 * logging level 1 (only each record's latest change is kept; services/normalizer README, "Logging
 * levels"), and on no other output. The ClickHouse sink stores such events in
 * `audit_record_latest`, one row per record, instead of the trail.
 */
export const temporalLevelHeader = 'audit-temporal-level'
