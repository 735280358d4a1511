import type { CompiledExpression } from '../rules/celExpression.js'
import type { CompiledRule } from '../rules/compiledRule.js'
import { cardinalityLogic } from './cardinality.js'
import { changeLogic } from './change.js'
import { flatlineLogic } from './flatline.js'
import { matchLogic } from './match.js'
import { newValueLogic } from './newValue.js'
import type { KindLogic } from './ruleKind.js'
import { sequenceLogic } from './sequence.js'
import { spikeLogic } from './spike.js'
import { thresholdLogic } from './threshold.js'

/** The logic of a rule's kind, set up with the rule's figures. */
export function logicFor(
  rule: CompiledRule,
  evaluate: (expression: CompiledExpression, context: Record<string, unknown>) => boolean,
): KindLogic<object> {
  const definition = rule.definition
  switch (definition.kind) {
    case 'threshold':
      return thresholdLogic(definition)
    case 'spike':
      return spikeLogic(definition)
    case 'flatline':
      return flatlineLogic(definition)
    case 'new_value':
      return newValueLogic(definition)
    case 'cardinality':
      return cardinalityLogic(definition)
    case 'change':
      return changeLogic(definition)
    case 'match':
      return matchLogic()
    case 'sequence':
      if (!rule.first || !rule.then)
        throw new Error(`sequence rule ${rule.id} was compiled without first/then`)
      return sequenceLogic({
        within: definition.within,
        first: rule.first,
        then: rule.then,
        evaluate,
      })
  }
}
