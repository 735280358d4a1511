export { produceLines, type ProduceSummary, type Rejection, type ProduceProgress } from './produceLines.js'
export { resolveEndpoints, type Endpoints } from './endpoints.js'
