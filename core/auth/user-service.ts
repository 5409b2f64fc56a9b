// Users: creation, lookup, passwords (with lockout after repeated failures) and sysadmin flag.
import { randomUUID } from 'node:crypto';
import { Op, type Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import type { UserRow } from '../db/core-models.js';
import { AccountLockedError, AuthenticationError, ConflictError, NotFoundError, ValidationError, fieldErrors } from '../errors.js';
import { slugProblem } from '../util/names.js';
import { DUMMY_PASSWORD_HASH } from './password-hasher.js';
import type { PasswordHasher } from './password-hash-pool.js';

/** A user as services hand it out (never with the password hash). */
export interface User {
  id: string;
  name: string;
  email: string;
  fullname: string;
  sysadmin: boolean;
  state: 'active' | 'deleted';
  lockedUntil: Date | undefined;
  createdAt: Date;
}

/** Lockout rules from `[auth]`. */
export interface LockoutPolicy {
  maxFailedLogins: number;
  lockoutMinutes: number;
  minPasswordLength: number;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function toUser(row: UserRow): User {
  return { id: row.id, name: row.name, email: row.email, fullname: row.fullname, sysadmin: Boolean(row.sysadmin), state: row.state, lockedUntil: row.lockedUntil ?? undefined, createdAt: row.createdAt };
}

/** Manages users. */
export class UserService {
  constructor(
    private readonly db: Database,
    private readonly policy: LockoutPolicy,
    private readonly hasher: PasswordHasher,
  ) {}

  /** Checks a new password against the length rule. @throws ValidationError */
  checkPasswordStrength(password: string): void {
    if (password.length < this.policy.minPasswordLength) {
      throw new ValidationError('password is too short', { password: [`use at least ${this.policy.minPasswordLength} characters`] });
    }
  }

  /**
   * Creates a user.
   * @throws ValidationError for a bad name, email or password; ConflictError when the name is taken.
   */
  async create(input: { name: string; email: string; password?: string; fullname?: string; sysadmin?: boolean }, transaction?: Transaction): Promise<User> {
    const fields: Record<string, string[]> = fieldErrors();
    const nameProblem = slugProblem(input.name);
    if (nameProblem) fields.name = [nameProblem];
    if (!EMAIL.test(input.email) || input.email.length > 254) fields.email = [`"${input.email}" is not an email address`];
    if (input.password !== undefined && input.password.length < this.policy.minPasswordLength) fields.password = [`use at least ${this.policy.minPasswordLength} characters`];
    if (Object.keys(fields).length) throw new ValidationError('user is invalid', fields);
    if (await this.db.models.User.findOne({ where: { name: input.name }, transaction })) {
      throw new ConflictError(`user name "${input.name}" is already in use`, { name: ['That login name is not available.'] });
    }
    const row = await this.db.models.User.create(
      {
        id: randomUUID(),
        name: input.name,
        email: input.email,
        fullname: input.fullname ?? '',
        passwordHash: input.password === undefined ? null : await this.hasher.hash(input.password),
        sysadmin: input.sysadmin ?? false,
      },
      { transaction },
    );
    return toUser(row.get({ plain: true }));
  }

  /** Finds an active user by name or id. */
  async find(nameOrId: string, transaction?: Transaction): Promise<User | undefined> {
    const row = await this.findRow(nameOrId, transaction);
    return row ? toUser(row) : undefined;
  }

  /** Like find, but @throws NotFoundError. */
  async get(nameOrId: string, transaction?: Transaction): Promise<User> {
    const user = await this.find(nameOrId, transaction);
    if (!user) throw new NotFoundError(`user "${nameOrId}" not found`);
    return user;
  }

  /** Active users ordered by name. */
  async list(): Promise<User[]> {
    const rows = await this.db.models.User.findAll({ where: { state: 'active' }, order: [['name', 'ASC']] });
    return rows.map((row) => toUser(row.get({ plain: true })));
  }

  /** Sets a new password and clears any lockout. */
  async setPassword(nameOrId: string, password: string, transaction?: Transaction): Promise<User> {
    this.checkPasswordStrength(password);
    const user = await this.get(nameOrId, transaction);
    await this.db.models.User.update({ passwordHash: await this.hasher.hash(password), failedLogins: 0, lockedUntil: null }, { where: { id: user.id }, transaction });
    return user;
  }

  /** Grants or removes sysadmin rights. */
  async setSysadmin(nameOrId: string, sysadmin: boolean, transaction?: Transaction): Promise<User> {
    const user = await this.get(nameOrId, transaction);
    await this.db.models.User.update({ sysadmin }, { where: { id: user.id }, transaction });
    return { ...user, sysadmin };
  }

  /** Marks a user deleted, frees nothing else (datasets stay with their organisations). */
  async delete(nameOrId: string, transaction?: Transaction): Promise<User> {
    const user = await this.get(nameOrId, transaction);
    await this.db.models.User.update({ state: 'deleted', name: `${user.name}~deleted~${user.id.slice(0, 8)}` }, { where: { id: user.id }, transaction });
    await this.db.models.ApiToken.update({ revokedAt: new Date() }, { where: { userId: user.id, revokedAt: null }, transaction });
    return { ...user, state: 'deleted' };
  }

  /**
   * Checks a name and password. After `maxFailedLogins` failures the account is locked for
   * `lockoutMinutes`; a locked account fails even with the right password. Failures are
   * counted atomically in the database, so guesses sent all at once lock the account as
   * surely as guesses sent one after another, and an attempt that finishes after another
   * locked the account fails too.
   * Callers facing the network go through PasswordLogin, which limits attempts and answers
   * every refusal alike.
   * @param options.ignoreLock let the right password in although the account is locked (the
   *   caller vouches for the attempt, e.g. it comes from the owner's known address); the lock stays.
   * @throws AccountLockedError while the account is locked (`lockedNow` for the attempt that locked it);
   *   AuthenticationError with the same message for unknown users and wrong passwords.
   */
  async authenticate(name: string, password: string, options: { ignoreLock?: boolean } = {}): Promise<User> {
    const row = await this.findRow(name);
    if (!row || !row.passwordHash) {
      await this.hasher.verify(password, DUMMY_PASSWORD_HASH);
      throw new AuthenticationError('wrong user name or password');
    }
    const ignoreLock = options.ignoreLock === true;
    try {
      if (!ignoreLock) this.refuseIfLocked(row);
    } catch (error) {
      // A locked account costs a hash too, so timing does not tell it from the others.
      await this.hasher.verify(password, DUMMY_PASSWORD_HASH);
      throw error;
    }
    const matches = await this.hasher.verify(password, row.passwordHash);
    const { User: Users } = this.db.models;
    if (!matches) await Users.increment('failedLogins', { by: 1, where: { id: row.id } });
    // Re-read after the slow hash: attempts running at the same time may have changed it.
    const fresh = await this.findRow(row.id);
    if (!fresh) throw new AuthenticationError('wrong user name or password');
    const lockedNow = Boolean(fresh.lockedUntil && new Date(fresh.lockedUntil) > new Date());
    if (!(ignoreLock && matches)) this.refuseIfLocked(fresh);
    if (matches) {
      // The owner's way in around a lock leaves the lock on everyone else.
      if (lockedNow) return toUser(fresh);
      if (fresh.failedLogins || fresh.lockedUntil) await Users.update({ failedLogins: 0, lockedUntil: null }, { where: { id: row.id } });
      return toUser(fresh);
    }
    if (fresh.failedLogins < this.policy.maxFailedLogins) throw new AuthenticationError('wrong user name or password');
    const until = new Date(Date.now() + this.policy.lockoutMinutes * 60_000);
    const [locked] = await Users.update({ failedLogins: 0, lockedUntil: until }, { where: { id: row.id, failedLogins: { [Op.gte]: this.policy.maxFailedLogins } } });
    if (!locked) {
      // Another attempt got there first (and locked it), or the password was reset meanwhile.
      this.refuseIfLocked((await this.findRow(row.id)) ?? fresh);
      throw new AuthenticationError('wrong user name or password');
    }
    throw new AccountLockedError(toUser(fresh), until, true, `account is locked for ${this.policy.lockoutMinutes} minutes after ${fresh.failedLogins} failed logins`);
  }

  private refuseIfLocked(row: UserRow): void {
    if (row.lockedUntil && new Date(row.lockedUntil) > new Date()) {
      const until = new Date(row.lockedUntil);
      throw new AccountLockedError(toUser(row), until, false, `account is locked after repeated failed logins; try again after ${until.toISOString()}`);
    }
  }

  private async findRow(nameOrId: string, transaction?: Transaction): Promise<UserRow | undefined> {
    const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(nameOrId);
    const row = await this.db.models.User.findOne({ where: isId ? { id: nameOrId, state: 'active' } : { name: nameOrId, state: 'active' }, transaction });
    return row?.get({ plain: true });
  }
}
