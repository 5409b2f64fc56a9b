// Lab staff of distribution: users an administrator allowed to read the trail (history,
// pending and unacknowledged files, life lines), to check that results reached the clinics.
// Holding, re-sending and fetching archived files stay with site administrators.
import { QueryTypes } from 'sequelize';
import { PermissionServiceId, type ActionContext, type Actor, type Database, type Services } from '../../core/api.js';

/** One granted user. */
export interface StaffMember {
  userId: string;
  userName: string;
  grantedBy: string;
  grantedAt: Date;
}

/** Reads and writes `distribution_staff`. */
export class DistributionStaff {
  constructor(private readonly db: () => Database) {}

  /** Whether the user is lab staff. */
  async has(userId: string): Promise<boolean> {
    const rows = await this.db().sequelize.query('SELECT 1 AS found FROM distribution_staff WHERE user_id = ?', { replacements: [userId], type: QueryTypes.SELECT });
    return rows.length > 0;
  }

  /** Grants the role (again is fine). @returns whether it was new. */
  async add(user: { id: string; name: string }, grantedBy: string): Promise<boolean> {
    if (await this.has(user.id)) return false;
    await this.db().sequelize.query('INSERT INTO distribution_staff (user_id, user_name, granted_by, granted_at) VALUES (?, ?, ?, ?)', { replacements: [user.id, user.name, grantedBy, new Date()], type: QueryTypes.INSERT });
    return true;
  }

  /** Takes the role back. @returns whether the user had it. */
  async remove(userId: string): Promise<boolean> {
    const had = await this.has(userId);
    if (had) await this.db().sequelize.query('DELETE FROM distribution_staff WHERE user_id = ?', { replacements: [userId], type: QueryTypes.DELETE });
    return had;
  }

  /** Every member, by name. */
  async list(): Promise<StaffMember[]> {
    const rows = await this.db().sequelize.query<{ user_id: string; user_name: string; granted_by: string; granted_at: Date | string }>('SELECT user_id, user_name, granted_by, granted_at FROM distribution_staff ORDER BY user_name', { type: QueryTypes.SELECT });
    return rows.map((r) => ({ userId: r.user_id, userName: r.user_name, grantedBy: r.granted_by, grantedAt: new Date(r.granted_at) }));
  }

  /** Whether the actor may read the trail: a site administrator, or lab staff. */
  async mayRead(actor: Actor): Promise<boolean> {
    if (actor.kind === 'system') return true;
    if (actor.kind !== 'user') return false;
    return actor.user.sysadmin || this.has(actor.user.id);
  }

  /**
   * Passes site administrators and lab staff; refuses everyone else as the sysadmin rule
   * refuses them (401 to anonymous callers, 403 to others).
   */
  async requireReader(services: Services, actor: Actor, action: string, input: Record<string, unknown>): Promise<void> {
    if (actor.kind === 'user' && !actor.user.sysadmin && (await this.has(actor.user.id))) return;
    await services.get(PermissionServiceId).require({ actor, action, target: {}, input }, 'sysadmin');
  }
}

/** The reader check for an action. */
export async function requireTrailReader(staff: DistributionStaff, ctx: ActionContext, action: string, input: Record<string, unknown>): Promise<void> {
  await staff.requireReader(ctx.services, ctx.actor, action, input);
}
