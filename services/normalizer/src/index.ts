// The normalizer's pure core: input adapters, normalization and routing. The consumer loop,
// delivery guarantees, dead-lettering and operations wire these together (not built yet).
export * from './adapters/index.js'
export * from './normalize/index.js'
export * from './routing/index.js'
