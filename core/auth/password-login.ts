// Sign-in with a user name and password, for every way a password reaches the platform (HTTP
// Basic, the CamCOPS tablet API, a web sign-in form): failed attempts are limited per client
// address and per name before any hashing, and every refusal (unknown name, wrong password,
// locked account) answers the same, so nobody can probe which names exist or are locked. The
// lock itself is recorded for the account's owner and admins (audit event `user.lockout`).
// Neither the per-name limit nor the account lock applies at an address where the name signed
// in successfully before and has not failed since: guessing from elsewhere cannot lock the
// owner out, while the attacking addresses stay locked.
import { anonymous } from '../auth/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { AccountLockedError, AuthenticationError, ServiceBusyError, TooManyRequestsError } from '../errors.js';
import type { PasswordHasher } from './password-hash-pool.js';
import type { LoginLimiter } from './login-limiter.js';
import type { User, UserService } from './user-service.js';

/** The one answer to a refused sign-in. */
export const LOGIN_REFUSED = 'wrong user name or password';

/** Who signs in, from where, and through what. */
export interface PasswordLoginRequest {
  name: string;
  password: string;
  /** The client address (as the HTTP layer determined it). */
  address: string;
  /** What the attempt came through, for the audit trail (`basic`, `camcops`, `web`). */
  via: string;
}

/** Checks names and passwords for callers on the network. */
export class PasswordLogin {
  constructor(
    private readonly users: UserService,
    private readonly limiter: LoginLimiter,
    private readonly audit: AuditLog,
    private readonly hasher: PasswordHasher,
  ) {}

  /**
   * The user whose name and password these are.
   * @throws TooManyRequestsError (429, with seconds to wait) when this address or name failed too often, before any hashing;
   *   ServiceBusyError (503) when the hashing queue is full; AuthenticationError with LOGIN_REFUSED otherwise.
   */
  async login(request: PasswordLoginRequest): Promise<User> {
    const permit = this.limiter.take(request.address, request.name);
    if (!permit.ok) {
      throw new TooManyRequestsError(`too many failed sign-ins from this ${permit.limitedBy === 'address' ? 'address' : 'user name'}; try again in ${permit.retryAfterSeconds} s`, permit.retryAfterSeconds);
    }
    if (this.hasher.saturated?.()) {
      // Refused before the user lookup too: under a flood, nothing but this check is spent.
      permit.attempt.refund();
      throw new ServiceBusyError('too many sign-ins are being checked at once; try again in a moment', 1);
    }
    const knownAddress = this.limiter.isKnownAddress(request.address, request.name);
    try {
      const user = await this.users.authenticate(request.name, request.password, { ignoreLock: knownAddress });
      permit.attempt.refund();
      this.limiter.rememberSuccess(request.address, request.name);
      return user;
    } catch (error) {
      if (error instanceof AuthenticationError) this.limiter.forgetAddress(request.address, request.name);
      if (error instanceof AccountLockedError) {
        if (error.lockedNow) {
          await this.audit.record({ actor: anonymous, action: 'user.lockout', objectType: 'user', objectId: error.userId, address: request.address, details: { name: error.userName, until: error.until.toISOString(), via: request.via } });
        }
        throw new AuthenticationError(LOGIN_REFUSED);
      }
      if (error instanceof AuthenticationError) throw new AuthenticationError(LOGIN_REFUSED);
      // Busy hashing queue: not the caller's failure, so it does not count against them.
      permit.attempt.refund();
      throw error;
    }
  }
}
