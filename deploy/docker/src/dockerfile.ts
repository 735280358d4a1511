/** One instruction of a Dockerfile: `ENV A=b` is `{ keyword: 'ENV', args: 'A=b' }`. */
export type Instruction = { keyword: string; args: string }

/** A build stage: `FROM <from> AS <name>` and its instructions. */
export type Stage = { name: string | undefined; from: string; instructions: Instruction[] }

/**
 * Reads a Dockerfile's stages (enough of the syntax for checking our own Dockerfile: comments,
 * line continuations, `FROM … AS …`); heredocs and parser directives beyond `# syntax` are not
 * supported.
 */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)
  const stages: Stage[] = []
  for (const line of lines) {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(trimmed)
    if (!match) throw new Error(`not a Dockerfile instruction: ${trimmed}`)
    const keyword = match[1]!.toUpperCase()
    const args = match[2]!.replace(/\s+/g, ' ').trim()
    if (keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      if (!from) throw new Error(`cannot read: FROM ${args}`)
      stages.push({ from: from[1]!, name: from[2], instructions: [] })
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword, args })
    }
  }
  return stages
}

/** The instructions a target runs, its parent stages' first (`FROM runtime AS normalizer`). */
export function targetInstructions(stages: readonly Stage[], target: string): Instruction[] {
  const stage = stages.find((s) => s.name === target)
  if (!stage) throw new Error(`no stage named ${target}`)
  const parent = stages.some((s) => s.name === stage.from) ? targetInstructions(stages, stage.from) : []
  return [...parent, ...stage.instructions]
}

/** The last instruction of a kind in force for a target (USER, STOPSIGNAL, ENTRYPOINT, …). */
export function lastInstruction(instructions: readonly Instruction[], keyword: string): string | undefined {
  return instructions.findLast((i) => i.keyword === keyword)?.args
}

/** `ENTRYPOINT ["node", "x.js"]`: the exec form only, which receives signals itself. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args)
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`expected the exec form, a JSON array of strings: ${args}`)
  }
  return parsed
}

/** The environment a target's image starts with, from its `ENV A=b C=d` instructions. */
export function imageEnvironment(instructions: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { args } of instructions.filter((i) => i.keyword === 'ENV')) {
    for (const pair of args.split(' ')) {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'$\s]*)$/.exec(pair)
      if (!match) throw new Error(`ENV: expected NAME=value without quotes or variables: ${pair}`)
      env[match[1]!] = match[2]!
    }
  }
  return env
}

/** The ports a target's image exposes. */
export function exposedPorts(instructions: readonly Instruction[]): number[] {
  return instructions
    .filter((i) => i.keyword === 'EXPOSE')
    .flatMap((i) => i.args.split(' '))
    .map((port) => Number(port.replace(/\/tcp$/, '')))
}
