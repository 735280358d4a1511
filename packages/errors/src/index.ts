export { AuditError } from './auditError.js'
