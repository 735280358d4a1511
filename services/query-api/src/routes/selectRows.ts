import type { AccessScope } from '../access/accessScope.js'
import type { RouteContext } from '../app.js'
import type { ParameterizedQuery } from '../query/eventQueries.js'

/** Runs one query of a route (the runner's caps and the key's tenants apply), timed per route. */
export async function select<Row>(
  context: RouteContext,
  scope: AccessScope,
  route: string,
  { query, params }: ParameterizedQuery,
): Promise<Row[]> {
  const stop = context.metrics.querySeconds.startTimer({ route })
  try {
    return await context.queries.run(
      scope,
      { query, query_params: params, format: 'JSONEachRow' },
      (result) => result.json<Row>(),
    )
  } finally {
    stop()
  }
}
