import { compileRule, type CompiledRule } from './compiledRule.js'
import { itemNameAt, readYamlDocument } from './problemList.js'
import { rulesDocument } from './rulesSchema.js'

/** The rules in force: compiled, in file order. */
export type RuleSet = { readonly file: string; readonly rules: readonly CompiledRule[] }

/**
 * Reads a rules file (README.md, "Rule files") into compiled rules, or throws a RulesConfigError
 * listing every problem with its line, column and rule id. Pure: the caller reads the file, so a
 * SIGHUP reload swaps rules only when this succeeds.
 */
export function parseRules(text: string, file: string): RuleSet {
  const { data, problems } = readYamlDocument(text, file)
  const parsed = rulesDocument.safeParse(data)
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.addIssue(issue, itemNameAt(data, issue.path, 'rules', 'id'))
    throw problems.toError()
  }

  const rules: CompiledRule[] = []
  const seen = new Map<string, number>()
  for (const [index, definition] of parsed.data.rules.entries()) {
    const earlier = seen.get(definition.id)
    if (earlier !== undefined) {
      problems.add(
        ['rules', index, 'id'],
        'value',
        `a rule id is used once; rules[${earlier}] has it already`,
        definition.id,
      )
    }
    seen.set(definition.id, index)
    const compiled = compileRule(definition)
    if (Array.isArray(compiled)) {
      for (const problem of compiled) {
        problems.add(['rules', index, problem.key], 'value', problem.message, definition.id)
      }
    } else {
      rules.push(compiled)
    }
  }
  if (problems.any()) throw problems.toError()
  return { file, rules }
}
