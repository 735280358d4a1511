#!/usr/bin/env node
import '../dist/sinkWithQueryApi.js'
