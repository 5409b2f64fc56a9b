// Append-only audit events: who did what, to which object, when and from where. Details
// pass through redaction so secrets never reach the table.
import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import { actorLabel, type Actor } from '../auth/actor.js';
import { redact } from '../logger.js';

/** One event to record. */
export interface AuditEntry {
  actor: Actor;
  /** e.g. `package_create`, `user.lockout`, `inspect.repair`. */
  action: string;
  objectType: string;
  objectId?: string;
  address?: string;
  details?: Record<string, unknown>;
}

/** A recorded event, as listed. */
export interface AuditEvent {
  id: number;
  at: Date;
  actor: string;
  actorId: string | undefined;
  action: string;
  objectType: string;
  objectId: string | undefined;
  address: string | undefined;
  details: Record<string, unknown>;
}

/** Writes and lists audit events. */
export class AuditLog {
  constructor(private readonly db: Database) {}

  /** Records an event, inside `transaction` when given (so it rolls back with the change). */
  async record(entry: AuditEntry, transaction?: Transaction): Promise<void> {
    await this.db.models.AuditEvent.create(
      {
        actor: actorLabel(entry.actor),
        actorId: entry.actor.kind === 'user' ? entry.actor.user.id : null,
        action: entry.action,
        objectType: entry.objectType,
        objectId: entry.objectId ?? null,
        address: entry.address ?? null,
        details: redact(entry.details ?? {}),
      },
      { transaction },
    );
  }

  /** Latest events first, optionally for one object. */
  async list(filter: { objectType?: string; objectId?: string; action?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    const where: Record<string, string> = {};
    if (filter.objectType) where.objectType = filter.objectType;
    if (filter.objectId) where.objectId = filter.objectId;
    if (filter.action) where.action = filter.action;
    const rows = await this.db.models.AuditEvent.findAll({ where, order: [['id', 'DESC']], limit: filter.limit ?? 100 });
    return rows.map((row) => {
      const r = row.get({ plain: true });
      return { id: r.id, at: r.at, actor: r.actor, actorId: r.actorId ?? undefined, action: r.action, objectType: r.objectType, objectId: r.objectId ?? undefined, address: r.address ?? undefined, details: r.details };
    });
  }
}
