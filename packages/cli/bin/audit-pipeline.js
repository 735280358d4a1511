#!/usr/bin/env node
// Runs the built CLI. In a fresh clone it is built by `npm run build` (or `npm start`).
import { existsSync } from 'node:fs'

const main = new URL('../dist/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write(
    'audit-pipeline: the CLI is not built yet; run `npm run build` in the repository first\n',
  )
  process.exit(2)
}
await import(main.href)
