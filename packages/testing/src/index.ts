export { waitFor, type WaitForOptions } from './waitFor.js'
export { uniqueName } from './uniqueName.js'
export type { StackEndpoints } from './stackEndpoints.js'
