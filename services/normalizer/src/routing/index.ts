export { parseRoutes, routesFormats, type RoutesFormat, type RoutesSource } from './parseRoutes.js'
export { routeEvent } from './routeEvent.js'
export { routeTopics } from './routeTopics.js'
export {
  defaultRouteName,
  type Route,
  type RouteOutcome,
  type RouteTable,
  type RoutingDecision,
} from './routeTable.js'
export { RoutesConfigError, formatProblem, type RoutesConfigProblem } from './routesConfigError.js'
