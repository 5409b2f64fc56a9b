// Organisations and their members (member / editor / admin).
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import type { MemberRole, OrganizationRow } from '../db/core-models.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { slugProblem } from '../util/names.js';

export type { MemberRole } from '../db/core-models.js';
export const MEMBER_ROLES: readonly MemberRole[] = ['member', 'editor', 'admin'];

/** An organisation as services hand it out. */
export interface Organization {
  id: string;
  name: string;
  title: string;
  description: string;
  createdAt: Date;
}

/** A member of an organisation. */
export interface Member {
  userId: string;
  userName: string;
  role: MemberRole;
}

function toOrganization(row: OrganizationRow): Organization {
  return { id: row.id, name: row.name, title: row.title, description: row.description, createdAt: row.createdAt };
}

/** Manages organisations and memberships. */
export class OrganizationService {
  constructor(private readonly db: Database) {}

  /** Creates an organisation. @throws ValidationError, ConflictError */
  async create(input: { name: string; title?: string; description?: string }, transaction?: Transaction): Promise<Organization> {
    const problem = slugProblem(input.name);
    if (problem) throw new ValidationError('organization is invalid', { name: [problem] });
    if (await this.db.models.Organization.findOne({ where: { name: input.name }, transaction })) {
      throw new ConflictError(`organization name "${input.name}" is already in use`, { name: ['Group name already exists in database'] });
    }
    const row = await this.db.models.Organization.create({ id: randomUUID(), name: input.name, title: input.title ?? input.name, description: input.description ?? '' }, { transaction });
    return toOrganization(row.get({ plain: true }));
  }

  /** Finds an organisation by name or id. */
  async find(nameOrId: string, transaction?: Transaction): Promise<Organization | undefined> {
    const isId = /^[0-9a-f-]{36}$/.test(nameOrId);
    const row = await this.db.models.Organization.findOne({ where: isId ? { id: nameOrId, state: 'active' } : { name: nameOrId, state: 'active' }, transaction });
    return row ? toOrganization(row.get({ plain: true })) : undefined;
  }

  /** Like find, but @throws NotFoundError. */
  async get(nameOrId: string, transaction?: Transaction): Promise<Organization> {
    const org = await this.find(nameOrId, transaction);
    if (!org) throw new NotFoundError(`organization "${nameOrId}" not found`);
    return org;
  }

  /** All organisations ordered by name. */
  async list(): Promise<Organization[]> {
    const rows = await this.db.models.Organization.findAll({ where: { state: 'active' }, order: [['name', 'ASC']] });
    return rows.map((row) => toOrganization(row.get({ plain: true })));
  }

  /** Adds a member or changes their role. */
  async setMember(organizationId: string, userId: string, role: MemberRole, transaction?: Transaction): Promise<void> {
    if (!MEMBER_ROLES.includes(role)) throw new ValidationError('role is invalid', { role: [`"${role}" is not one of ${MEMBER_ROLES.join(', ')}`] });
    const existing = await this.db.models.Membership.findOne({ where: { organizationId, userId }, transaction });
    if (existing) await existing.update({ role }, { transaction });
    else await this.db.models.Membership.create({ id: randomUUID(), organizationId, userId, role }, { transaction });
  }

  /** Removes a member. @throws NotFoundError when the user is not a member. */
  async removeMember(organizationId: string, userId: string, transaction?: Transaction): Promise<void> {
    const removed = await this.db.models.Membership.destroy({ where: { organizationId, userId }, transaction });
    if (!removed) throw new NotFoundError('user is not a member of this organization');
  }

  /** The members of an organisation. */
  async members(organizationId: string): Promise<Member[]> {
    const rows = (await this.db.models.Membership.findAll({ where: { organizationId } })).map((r) => r.get({ plain: true }));
    const users = (await this.db.models.User.findAll({ where: { id: rows.map((r) => r.userId) } })).map((u) => u.get({ plain: true }));
    const names = new Map(users.map((u) => [u.id, u.name]));
    return rows.map((r) => ({ userId: r.userId, userName: names.get(r.userId) ?? '?', role: r.role })).sort((a, b) => a.userName.localeCompare(b.userName));
  }

  /** The role of a user in an organisation, if any. */
  async roleOf(userId: string, organizationId: string, transaction?: Transaction): Promise<MemberRole | undefined> {
    const row = await this.db.models.Membership.findOne({ where: { organizationId, userId }, transaction });
    return row?.get({ plain: true }).role;
  }

  /** Ids of the organisations a user belongs to, with roles. */
  async membershipsOf(userId: string): Promise<Map<string, MemberRole>> {
    const rows = await this.db.preparedRead<{ organizationId: string; role: MemberRole }>('SELECT organization_id AS "organizationId", role FROM memberships WHERE user_id = $1', [userId]);
    return new Map(rows.map((r) => [r.organizationId, r.role]));
  }
}
