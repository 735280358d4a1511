/**
 * Reads flags while collecting every flag's problem instead of stopping at the first, so one run
 * says all that is wrong: `attempt` gives undefined for a flag at fault and keeps its message.
 */
export function flagProblems(): { problems: string[]; attempt: <T>(parse: () => T) => T | undefined } {
  const problems: string[] = []
  return {
    problems,
    attempt(parse) {
      try {
        return parse()
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error))
        return undefined
      }
    },
  }
}
