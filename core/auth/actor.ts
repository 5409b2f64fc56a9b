// Who is acting: an anonymous caller or an authenticated user.
import type { MemberRole } from '../db/core-models.js';

/** The parts of a user that permission checks and actions need. */
export interface UserIdentity {
  id: string;
  name: string;
  sysadmin: boolean;
}

/** The caller of an action, command or route. */
export type Actor =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      user: UserIdentity;
      /** id of the API token used, if any */
      tokenId?: string;
      /** The user's roles by organisation id, read with the token at the start of the request (reads may use them instead of asking again). */
      memberships?: ReadonlyMap<string, MemberRole>;
    }
  | { kind: 'system'; /** what acts, e.g. `cli` or `job:hash` */ name: string };

/** The anonymous actor. */
export const anonymous: Actor = { kind: 'anonymous' };

/** The user behind an actor, if any. */
export function actorUser(actor: Actor): UserIdentity | undefined {
  return actor.kind === 'user' ? actor.user : undefined;
}

/** A name for audit events: user name, `system:<name>` or `anonymous`. */
export function actorLabel(actor: Actor): string {
  if (actor.kind === 'user') return actor.user.name;
  if (actor.kind === 'system') return `system:${actor.name}`;
  return 'anonymous';
}
