// Actions: CKAN-style API actions under /api/3/action/<name>.
import type { Transaction } from 'sequelize';
import { hookId } from '../hook-id.js';
import type { Actor } from '../../auth/actor.js';
import type { Services } from '../../services/services.js';
import type { PlatformEventName, PlatformEvents } from './lifecycle.js';

/** What an action's code sees. */
export interface ActionContext {
  /** Name of the running action. */
  readonly action: string;
  readonly actor: Actor;
  /** Client address, for audit events. */
  readonly address: string;
  readonly requestId: string;
  /** The open transaction of a write action (undefined for reads). Pass it to every query. */
  readonly transaction: Transaction | undefined;
  readonly services: Services;
  /** Queues a lifecycle event; observers receive it after the transaction commits. */
  emit<K extends PlatformEventName>(event: K, payload: PlatformEvents[K]): void;
}

/**
 * One API action. Dispatch: **registry** keyed by `name`; a duplicate name is a start-up
 * error naming both plugins, unless the later one sets `chain: true`, in which case its
 * `run` receives the earlier implementation as `next` and may call it.
 *
 * Write actions run inside one database transaction with every veto hook; their events
 * reach observers only after commit.
 *
 * @example
 * ctx.contribute(Actions, { name: 'hello_show', kind: 'read', help: 'Says hello.',
 *   run: async (input) => ({ hello: input.name ?? 'world' }) });
 */
export interface ActionDefinition {
  readonly name: string;
  /** One paragraph, returned as `help` in every answer. */
  readonly help: string;
  /** `read` actions answer GET (and POST); `write` actions require POST. */
  readonly kind: 'read' | 'write';
  /** JSON Schema of the input; checked before `run`, with every problem reported at once. */
  readonly inputSchema?: object;
  /** Wraps an action of the same name registered earlier instead of clashing with it. */
  readonly chain?: boolean;
  run(input: Record<string, unknown>, ctx: ActionContext, next?: (input: Record<string, unknown>, ctx: ActionContext) => Promise<unknown>): Promise<unknown>;
  /**
   * A read action's result as JSON text, for actions that keep their answers as text (in a
   * cache), or undefined to have `run` answer. The HTTP API asks it first, after the input
   * checks, and sends the text as it is: no object is rebuilt or serialised again. It must
   * apply the same permission checks as `run` and give the same result. A wrapper (`chain`)
   * does not inherit it.
   */
  readJson?(input: Record<string, unknown>, ctx: ActionContext): Promise<string | undefined>;
}

/** Service identifier of the {@link ActionDefinition} hook. */
export const Actions = hookId<ActionDefinition>('Actions');
