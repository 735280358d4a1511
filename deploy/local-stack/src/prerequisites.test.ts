import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkMaven, findJava, javaCandidates, parseJavaMajor } from './prerequisites.js'

/** A fake `java` that prints the given version line, as `java -version` does (on stderr). */
function fakeJava(dir: string, name: string, versionLine: string): string {
  const bin = join(dir, name, 'bin')
  mkdirSync(bin, { recursive: true })
  writeFileSync(join(bin, 'java'), `#!/bin/sh\necho '${versionLine}' >&2\n`, { mode: 0o755 })
  return join(bin, 'java')
}

describe('prerequisites', () => {
  it('reads the Java major version from both version styles', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17)
    expect(parseJavaMajor('openjdk version "25" 2025-09-16')).toBe(25)
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8)
    expect(parseJavaMajor('garbage')).toBeUndefined()
  })

  it('picks the first JDK new enough, looking past older ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'jvm-'))
    const jdk17 = fakeJava(root, 'jdk-17', 'openjdk version "17.0.15" 2025-04-15')
    const jdk25 = fakeJava(root, 'temurin-25', 'openjdk version "25" 2025-09-16')
    expect(await findJava(17, 'Kafka', [jdk17, jdk25])).toEqual({ java: jdk17, major: 17 })
    expect(await findJava(21, 'the registry', [jdk17, jdk25])).toEqual({ java: jdk25, major: 25 })
    expect(javaCandidates({ JAVA_HOME: '/opt/jdk' }, root)).toEqual([
      '/opt/jdk/bin/java',
      'java',
      jdk17,
      jdk25,
    ])
  })

  it('names what to install when no JDK is new enough or none exists', async () => {
    const root = mkdtempSync(join(tmpdir(), 'jvm-'))
    const jdk17 = fakeJava(root, 'jdk-17', 'openjdk version "17.0.15" 2025-04-15')
    await expect(findJava(21, 'Apicurio Registry 3', [jdk17])).rejects.toThrow(
      `Java 21 or newer is needed to run Apicurio Registry 3, and none was found (${jdk17} is 17): install a JDK 21+ or set JAVA_HOME to one`,
    )
    await expect(findJava(17, 'Kafka', ['/nonexistent/java'])).rejects.toThrow(
      'Java 17 or newer is needed to run Kafka, and no java was found',
    )
    await expect(checkMaven('/nonexistent/mvn')).rejects.toThrow(/Maven is needed .* apt-get install maven/)
  })
})
