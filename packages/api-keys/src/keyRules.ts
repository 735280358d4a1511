import { keyIdPattern, keyIdRule, roles, tenantNamePattern, tenantNameRule, type Role } from './apiKey.js'

// What is wrong with a value a new key is asked for with, or undefined: the key operations throw
// it with the field's name, the CLI with its option's.

export function roleProblem(role: string): string | undefined {
  return (roles as readonly string[]).includes(role)
    ? undefined
    : `expected one of: ${roles.join(', ')}; got '${role}'`
}

export function isRole(role: string): role is Role {
  return roleProblem(role) === undefined
}

export function keyIdProblem(id: string): string | undefined {
  return keyIdPattern.test(id) ? undefined : `expected ${keyIdRule}; got '${id}'`
}

export function tenantNameProblem(tenant: string): string | undefined {
  return tenantNamePattern.test(tenant) ? undefined : `expected ${tenantNameRule}; got '${tenant}'`
}
