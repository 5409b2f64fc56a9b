// Runs actions: finds them, checks their input, wraps writes in one transaction, and
// delivers lifecycle events to observers after commit.
import { randomUUID } from 'node:crypto';
import { UniqueConstraintError } from 'sequelize';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Actor } from '../auth/actor.js';
import type { Services } from '../services/services.js';
import type { HookRegistries } from '../plugins/hook-registries.js';
import type { ActionContext, ActionDefinition } from '../plugins/hooks/actions.js';
import type { PlatformEventName, PlatformEvents } from '../plugins/hooks/lifecycle.js';
import { ConflictError, UnknownActionError, ValidationError } from '../errors.js';
import { inputTextProblems } from '../validation/text-rule.js';
import { closestNames } from '../util/did-you-mean.js';
import type { JsonSchemaValidator } from '../validation/json-schema-validator.js';

/** Who calls, from where. */
export interface ActionCall {
  actor: Actor;
  address?: string;
  requestId?: string;
}

interface QueuedEvent {
  name: PlatformEventName;
  payload: PlatformEvents[PlatformEventName];
}

/**
 * Two requests that create the same name at the same moment both pass the "is it taken?"
 * check; the database's unique index stops the second. That is a conflict (409) for the
 * caller, not an internal error.
 */
function asConflict(error: unknown): never {
  if (!(error instanceof UniqueConstraintError)) throw error;
  const fields = Object.entries(error.fields ?? {});
  const described = fields.map(([field, value]) => (value === undefined || value === null ? field : `${field} "${String(value)}"`)).join(', ');
  throw new ConflictError(`${described || 'the value'} is already in use (it was taken at the same moment); choose another`, Object.fromEntries(fields.map(([field]) => [field, ['That value is already in use.']])));
}

/** Runs registered actions. */
export class ActionRunner {
  constructor(
    private readonly registries: HookRegistries,
    private readonly db: Database,
    private readonly services: Services,
    private readonly validator: JsonSchemaValidator,
    private readonly logger: Logger,
    /** The permission check that comes before the input is read (PermissionService.requireBeforeInput). */
    private readonly accessBeforeInput: (actor: Actor, action: string) => Promise<void>,
  ) {}

  /** Names of every action, sorted. */
  names(): string[] {
    return this.registries.actions.names().sort();
  }

  /** The action of a name. @throws UnknownActionError with close names. */
  get(name: string): ActionDefinition {
    const action = this.registries.actions.get(name);
    if (!action) throw new UnknownActionError(name, closestNames(name, this.registries.actions.names(), 5));
    return action;
  }

  /**
   * The access check that needs no input (see PermissionService.requireBeforeInput); the HTTP
   * API runs it before reading the body, so a refused caller's body is never parsed.
   * @throws AuthorizationError
   */
  async requireAccess(name: string, call: ActionCall): Promise<void> {
    await this.accessBeforeInput(call.actor, name);
  }

  /**
   * A read action's result as JSON text (see ActionDefinition.readJson), or undefined when
   * the action gives none.
   * @throws as `run` does for invalid input and denied access
   */
  async runJson(name: string, input: Record<string, unknown>, call: ActionCall): Promise<string | undefined> {
    const action = this.get(name);
    if (action.kind !== 'read' || !action.readJson) return undefined;
    await this.accessBeforeInput(call.actor, name);
    this.checkInput(name, action, input);
    return action.readJson(input, { ...this.context(name, call, []), transaction: undefined });
  }

  /** Runs an action; writes commit (or roll back) as one transaction. */
  async run(name: string, input: Record<string, unknown>, call: ActionCall): Promise<unknown> {
    const action = this.get(name);
    // Access first, as CKAN's check_access: a caller who may not run the action at all is
    // told so (403) whatever the body, and never learns the input schema.
    await this.accessBeforeInput(call.actor, name);
    this.checkInput(name, action, input);
    const events: QueuedEvent[] = [];
    const base = this.context(name, call, events);
    let result: unknown;
    if (action.kind === 'read') {
      result = await action.run(input, { ...base, transaction: undefined });
    } else {
      result = await this.db.transaction(async (transaction) => action.run(input, { ...base, transaction } satisfies ActionContext)).catch(asConflict);
    }
    await this.deliver(events);
    return result;
  }

  /** The shared text rule, then the action's input schema. @throws ValidationError */
  private checkInput(name: string, action: ActionDefinition, input: Record<string, unknown>): void {
    const problems = inputTextProblems(input);
    if (Object.keys(problems).length) throw new ValidationError(`${name} input is invalid`, problems);
    if (action.inputSchema) this.validator.check(action.inputSchema, input, `${name} input`);
  }

  /** An action context without its transaction; events go to `events`. */
  private context(name: string, call: ActionCall, events: QueuedEvent[]): Omit<ActionContext, 'transaction'> {
    return {
      action: name,
      actor: call.actor,
      address: call.address ?? '',
      requestId: call.requestId ?? randomUUID(),
      services: this.services,
      emit: <K extends PlatformEventName>(event: K, payload: PlatformEvents[K]) => void events.push({ name: event, payload }),
    };
  }

  /**
   * Runs core or plugin code that is not a registered action (resource intake, jobs) with
   * the same guarantees: one transaction, an ActionContext named `name` for permission
   * checks and audit, and events delivered to observers after commit.
   */
  async runInTransaction<T>(call: ActionCall, fn: (ctx: ActionContext) => Promise<T>, name: string): Promise<T> {
    const events: QueuedEvent[] = [];
    const result = await this.db.transaction(async (transaction) =>
      fn({
        action: name,
        actor: call.actor,
        address: call.address ?? '',
        requestId: call.requestId ?? randomUUID(),
        services: this.services,
        transaction,
        emit: (event, payload) => void events.push({ name: event, payload }),
      }),
    ).catch(asConflict);
    await this.deliver(events);
    return result;
  }

  /** Delivers events to observers in plugin order; one failing observer does not stop the others. */
  async deliver(events: QueuedEvent[]): Promise<void> {
    for (const event of events) {
      for (const { plugin, value } of this.registries.observers) {
        const handler = value.on[event.name] as ((payload: unknown) => Promise<void> | void) | undefined;
        if (!handler) continue;
        try {
          await handler(event.payload);
        } catch (error) {
          this.logger.error('observer failed', { plugin, event: event.name, error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
  }
}
