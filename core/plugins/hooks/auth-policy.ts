// AuthPolicy: extra rules that may deny what core would allow.
import { hookId } from '../hook-id.js';
import type { Actor } from '../../auth/actor.js';

/** What is being asked: an action on an optional target. */
export interface AuthRequest {
  readonly actor: Actor;
  /** Action name, e.g. `package_update`. */
  readonly action: string;
  /** Ids and attributes of the objects concerned, as far as known. */
  readonly target: {
    organizationId?: string;
    datasetId?: string;
    datasetState?: string;
    datasetPrivate?: boolean;
    resourceId?: string;
    userId?: string;
  };
  /** The input of the action (already validated). */
  readonly input: Record<string, unknown>;
}

/**
 * An extra permission rule. Dispatch: **filter/veto**, in plugin order, only after core's
 * own rules allowed the request; the first denial wins. A policy can never allow what core
 * denies.
 *
 * @example
 * ctx.contribute(AuthPolicy, { name: 'no-weekend-deletes', check: (r) =>
 *   r.action === 'package_delete' && isWeekend() ? 'no deletes at weekends' : undefined });
 */
export interface AuthPolicy {
  readonly name: string;
  /** @returns a reason to deny, or undefined to let core's decision stand. */
  check(request: AuthRequest): Promise<string | undefined> | string | undefined;
}

/** Service identifier of the {@link AuthPolicy} hook. */
export const AuthPolicy = hookId<AuthPolicy>('AuthPolicy');
