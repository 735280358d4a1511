/**
 * Kafka's own rules for topic names (`org.apache.kafka.common.internals.Topic`): 1 to 249
 * characters from `a-z A-Z 0-9 . _ -`, and not `.` or `..`. Checked when the routes are read, so
 * a typo fails at start-up instead of at the first event sent to it.
 */
export const maxTopicNameLength = 249

const legalTopicName = /^[A-Za-z0-9._-]+$/

/** What is wrong with a topic name, or undefined when Kafka accepts it. */
export function topicNameProblem(name: string): string | undefined {
  if (name === '' || name.length > maxTopicNameLength || !legalTopicName.test(name)) {
    return `'${name}' is not a Kafka topic name: use 1 to ${maxTopicNameLength} of a-z A-Z 0-9 . _ -`
  }
  if (name === '.' || name === '..') return `'${name}' is not a Kafka topic name`
  return undefined
}

/**
 * Kafka refuses to create a topic whose name differs from an existing one only by `.` versus
 * `_` (they are the same character in its metric names), so two such names in one config cannot
 * both exist. Names with the same key collide.
 */
export function topicCollisionKey(name: string): string {
  return name.replaceAll('.', '_')
}
