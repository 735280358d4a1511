import { describe, expect, test } from 'vitest'
import { interpolate, isReadOnly, mountedFiles, readComposeFile } from './composeFile.js'
import { execForm, imageEnvironment, parseDockerfile, targetInstructions } from './dockerfile.js'

describe('interpolate (as docker compose does)', () => {
  test('takes the value when set, the default when unset or (with :-) empty', () => {
    expect(interpolate('${A:-x}', { A: 'set' })).toBe('set')
    expect(interpolate('${A:-x}', {})).toBe('x')
    expect(interpolate('${A:-x}', { A: '' })).toBe('x')
    expect(interpolate('${A-x}', { A: '' })).toBe('')
    expect(interpolate('a=$A, b=${B}', { A: '1', B: '2' })).toBe('a=1, b=2')
  })

  test('keeps $$ as a literal dollar for the container', () => {
    expect(interpolate('for t in $$TOPICS; do $${t%%:*}; done', {})).toBe(
      'for t in $TOPICS; do ${t%%:*}; done',
    )
  })

  test('refuses a variable with no value and no default, and says which', () => {
    expect(() => interpolate('${SECRET}', {})).toThrow(/SECRET is not set/)
    expect(() => interpolate('${SECRET:?set a secret}', {})).toThrow(/SECRET is required: set a secret/)
  })
})

describe('readComposeFile', () => {
  test('applies merge keys, later keys winning', () => {
    const compose = readComposeFile(
      [
        'x-env: &env',
        '  A: a',
        '  B: b',
        'services:',
        '  s:',
        '    environment:',
        '      <<: *env',
        '      B: ${B:-override}',
      ].join('\n'),
      {},
    )
    expect(compose.services['s']?.environment).toEqual({ A: 'a', B: 'override' })
  })

  test('maps mounted files back to the repository; named volumes are not files', () => {
    const service = { volumes: ['./deploy/x.yaml:/etc/x.yaml:ro', 'data:/var/lib/data', './y.json:/y.json'] }
    expect(mountedFiles(service, '/repo')).toEqual(
      new Map([
        ['/etc/x.yaml', '/repo/deploy/x.yaml'],
        ['/y.json', '/repo/y.json'],
      ]),
    )
    expect(service.volumes.map(isReadOnly)).toEqual([true, false, false])
  })
})

describe('parseDockerfile', () => {
  const stages = parseDockerfile(
    [
      '# syntax=docker/dockerfile:1',
      'ARG IMAGE=node:20',
      'FROM ${IMAGE} AS runtime',
      'ENV A=1 \\',
      '    B=2',
      'USER node',
      '',
      'FROM runtime AS app',
      '# a comment',
      'ENV B=3',
      'ENTRYPOINT ["node", "app.js"]',
    ].join('\n'),
  )

  test('reads stages, their names and what they are built from', () => {
    expect(stages.map((s) => [s.name, s.from])).toEqual([
      ['runtime', '${IMAGE}'],
      ['app', 'runtime'],
    ])
  })

  test("gives a target its parent stages' instructions first, continuations joined", () => {
    const instructions = targetInstructions(stages, 'app')
    expect(imageEnvironment(instructions)).toEqual({ A: '1', B: '3' })
    expect(instructions.map((i) => i.keyword)).toEqual(['ENV', 'USER', 'ENV', 'ENTRYPOINT'])
    expect(() => targetInstructions(stages, 'missing')).toThrow(/no stage named missing/)
  })

  test('accepts only the exec form of ENTRYPOINT', () => {
    expect(execForm('["node", "app.js"]')).toEqual(['node', 'app.js'])
    expect(() => execForm('node app.js')).toThrow()
    expect(() => execForm('[1]')).toThrow(/exec form/)
  })
})
