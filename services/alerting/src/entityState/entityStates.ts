import type { AuditEvent } from '@audit-pipeline/event-model'
import { TrackedStore } from '../engine/trackedStore.js'
import { parseJsonText } from '../rules/eventView.js'

/** Who set a field, as `entity.set_by.<field>`. */
export type FieldSetter = { id: string; type: string; roles: string[]; at: number; event_id: string }

/**
 * The last known state of one object, as rules read it in `entity`: its fields (from the changes
 * of the events that touched it), who set each, whether it was deleted, when it was last touched.
 */
export type EntityState = {
  exists: boolean
  deleted: boolean
  fields: Record<string, unknown>
  set_by: Record<string, FieldSetter>
  last_event_at: number
  last_actor: string
}

/** An object the service has not seen: `entity.exists == false`, the maps empty. */
export const unknownEntity: EntityState = Object.freeze({
  exists: false,
  deleted: false,
  fields: {},
  set_by: {},
  last_event_at: 0,
  last_actor: '',
})

/** Fields remembered per object, so one object with huge documents cannot take the memory. */
const maxFieldsPerEntity = 200

/** Objects are told apart by tenant, type and id. */
export function entityKeyOf(event: AuditEvent): string {
  return `${event.tenant}\u0001${event.object.type}\u0001${event.object.id}`
}

/** The last state per object, bounded (least recently touched forgotten first). */
export function createEntityStates(maxEntities: number) {
  const store = new TrackedStore<EntityState>('entity', maxEntities)
  return {
    store,
    stateOf: (event: AuditEvent): EntityState => store.get(entityKeyOf(event)) ?? unknownEntity,
    /** Applies an event after the rules have read the state before it. */
    apply(event: AuditEvent): void {
      const key = entityKeyOf(event)
      const known = store.get(key)
      const state: EntityState = known ?? { ...unknownEntity, exists: true, fields: {}, set_by: {} }
      const setter: FieldSetter = {
        id: event.actor.id,
        type: event.actor.type,
        roles: event.actor.roles,
        at: event.occurred_at,
        event_id: event.event_id,
      }
      for (const change of event.changes) {
        if (change.new_value === null) {
          // Removed, or changed to a value the event does not keep (informative level 2, the
          // normalizer's README): either way the field's value is no longer known; who set it is.
          delete state.fields[change.path]
        } else if (change.path in state.fields || Object.keys(state.fields).length < maxFieldsPerEntity) {
          state.fields[change.path] = parseJsonText(change.new_value)
        } else {
          continue
        }
        state.set_by[change.path] = setter
      }
      state.deleted = event.action.kind === 'delete'
      state.last_event_at = Math.max(state.last_event_at, event.occurred_at)
      state.last_actor = event.actor.id
      store.set(key, state)
    },
  }
}

export type EntityStates = ReturnType<typeof createEntityStates>
