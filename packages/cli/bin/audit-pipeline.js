#!/usr/bin/env node
// The built CLI; `npm run build` (or `npm start`) builds it.
import '../dist/main.js'
