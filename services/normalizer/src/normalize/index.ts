export type { EventDraft } from './eventDraft.js'
export { actionKindAliases, canonicalActionKind, canonicalCategory } from './canonicalNames.js'
export { changesFromSnapshots, snapshotsNeededForChanges } from './changesFromSnapshots.js'
export { normalizeEvent, type NormalizeOptions, type NormalizeResult } from './normalizeEvent.js'
