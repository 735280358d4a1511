import {
  diffValues,
  snapshotJsonText,
  type ActionKind,
  type Actor,
  type ActorType,
  type AuditEvent,
  type Correlation,
  type ObjectRef,
  type Outcome,
  type Severity,
  type Source,
} from '@audit-pipeline/event-model'

/** Who acted, as callers write it: only `id` is required; `type` defaults to user. */
export type ActorInput = Partial<Omit<Actor, 'id'>> & { id: string }

/** The record acted on: type and id, up to two more id parts for composite keys, a label. */
export type ObjectInput = { type: string; id: string; id2?: string; id3?: string; label?: string }

/** Everything about an event that is not the object and its values: per call, over the defaults. */
export type EventContext = {
  actor: ActorInput
  onBehalfOf?: ActorInput
  tenant?: string
  category?: string
  /** The business action name; default `<object type>.<create|update|delete|read>`. */
  action?: string
  occurredAt?: Date | number
  /** The idempotency key; generated when absent. Give one to make retries safe across restarts. */
  eventId?: string
  outcome?: Partial<Outcome> & Pick<Outcome, 'status'>
  severity?: Severity
  correlation?: Partial<Correlation>
  attributes?: Record<string, string>
  /** Paths of fields holding sensitive data, redacted before the event leaves the process. */
  sensitiveFields?: string[]
  /**
   * Put before/after snapshots in this event as well as the changes (default: the producer's
   * `defaults.snapshots`). Without them an event is smaller and cheaper to build; the changes
   * alone still say what changed, old → new.
   */
  snapshots?: boolean
}

/** What every event of one producer shares. */
export type EventDefaults = {
  tenant?: string
  source: Pick<Source, 'service'> & Partial<Source>
  category: string
  /** Put before/after snapshots in events as well as the changes. */
  snapshots: boolean
}

export type BuildDependencies = { now: () => number; newEventId: () => string }

/**
 * Turns the SDK's calls into canonical events: pure, with the clock and id generator passed in.
 * `updated` returns undefined when nothing changed and `emitUnchanged` is not set.
 */
export function createEventBuilder(defaults: EventDefaults, deps: BuildDependencies) {
  const base = (
    kind: ActionKind,
    verb: string,
    object: ObjectInput,
    context: EventContext,
  ): Omit<AuditEvent, 'changes' | 'before' | 'after'> => {
    const tenant = context.tenant ?? defaults.tenant
    const now = deps.now()
    return {
      event_id: context.eventId ?? deps.newEventId(),
      occurred_at: context.occurredAt === undefined ? now : Number(context.occurredAt),
      recorded_at: now,
      tenant: tenant ?? '',
      source: {
        service: defaults.source.service,
        instance: defaults.source.instance ?? null,
        version: defaults.source.version ?? null,
      },
      actor: actorOf(context.actor),
      on_behalf_of: context.onBehalfOf ? actorOf(context.onBehalfOf) : null,
      action: { kind, name: context.action ?? `${object.type}.${verb}` },
      category: context.category ?? defaults.category,
      object: objectRefOf(object),
      outcome: { status: context.outcome?.status ?? 'success', reason: context.outcome?.reason ?? null },
      severity: context.severity ?? 'info',
      correlation: {
        trace_id: context.correlation?.trace_id ?? null,
        request_id: context.correlation?.request_id ?? null,
      },
      attributes: context.attributes ?? {},
      sensitive_fields: context.sensitiveFields ?? [],
    }
  }
  const snapshot = (value: unknown, context: EventContext) =>
    (context.snapshots ?? defaults.snapshots) && value !== undefined ? snapshotJsonText(value) : null
  const diffOptions = (context: EventContext) => ({ wholeAt: context.sensitiveFields ?? [] })

  return {
    created(object: ObjectInput, after: unknown, context: EventContext): AuditEvent {
      return {
        ...base('create', 'create', object, context),
        changes: diffValues(undefined, after, diffOptions(context)),
        before: null,
        after: snapshot(after, context),
      }
    },
    updated(
      object: ObjectInput,
      before: unknown,
      after: unknown,
      context: EventContext & { emitUnchanged?: boolean },
    ): AuditEvent | undefined {
      const changes = diffValues(before, after, diffOptions(context))
      if (changes.length === 0 && !context.emitUnchanged) return undefined
      return {
        ...base('update', 'update', object, context),
        changes,
        before: snapshot(before, context),
        after: snapshot(after, context),
      }
    },
    deleted(object: ObjectInput, before: unknown, context: EventContext): AuditEvent {
      return {
        ...base('delete', 'delete', object, context),
        changes: diffValues(before, undefined, diffOptions(context)),
        before: snapshot(before, context),
        after: null,
      }
    },
    read(object: ObjectInput, context: EventContext): AuditEvent {
      return { ...base('read', 'read', object, context), changes: [], before: null, after: null }
    },
    /** A custom business action (ticket.assign, email.send), with optional before/after values. */
    operation(
      name: string,
      object: ObjectInput,
      details: { before?: unknown; after?: unknown },
      context: EventContext,
    ): AuditEvent {
      const hasValues = details.before !== undefined || details.after !== undefined
      return {
        ...base('operation', name, object, { ...context, action: name }),
        changes: hasValues ? diffValues(details.before, details.after, diffOptions(context)) : [],
        before: snapshot(details.before, context),
        after: snapshot(details.after, context),
      }
    },
  }
}

export type EventBuilder = ReturnType<typeof createEventBuilder>

function actorOf(input: ActorInput): Actor {
  return {
    type: input.type ?? ('user' satisfies ActorType),
    id: input.id,
    display_name: input.display_name ?? null,
    roles: input.roles ?? [],
    ip: input.ip ?? null,
    user_agent: input.user_agent ?? null,
    session_id: input.session_id ?? null,
  }
}

function objectRefOf(object: ObjectInput): ObjectRef {
  return {
    type: object.type,
    id: object.id,
    id2: object.id2 ?? null,
    id3: object.id3 ?? null,
    label: object.label ?? null,
  }
}
