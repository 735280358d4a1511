import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from './configError.js'
import { checkReadableFiles } from './readableFiles.js'

describe('checkReadableFiles', () => {
  it('passes files that can be read and settings left unset', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'readable-')), 'routes.yaml')
    writeFileSync(file, 'routes: []\n')
    expect(() => checkReadableFiles({ X_ROUTES_FILE: file, X_OTHER_FILE: undefined })).not.toThrow()
  })

  it('names every setting whose file cannot be read, as a configuration error', () => {
    const missing = join(tmpdir(), 'no-such-folder-for-this-test', 'rules.yaml')
    let error: unknown
    try {
      checkReadableFiles({ X_RULES_FILE: missing, X_RECEIVERS_FILE: `${missing}.too` })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems).toEqual([
      {
        setting: 'X_RULES_FILE',
        message: expect.stringMatching(`^cannot read ${missing}: ENOENT`) as string,
      },
      {
        setting: 'X_RECEIVERS_FILE',
        message: expect.stringMatching(`^cannot read ${missing}.too: ENOENT`) as string,
      },
    ])
  })
})
