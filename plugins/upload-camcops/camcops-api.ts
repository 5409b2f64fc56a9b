// The CamCOPS client API under /upload/camcops/api (and the legacy alias /database):
// parses the form, keeps the tablet's session, logs the user in through core's
// password sign-in (rate-limited; failed logins count toward core's lockout), checks permissions, runs the
// operation in one database transaction and answers in CamCOPS's text format.
import type { Context, Hono } from 'hono';
import {
  ActionRunnerId, AuditLogId, DatabaseId, OrganizationServiceId, PasswordLoginId, ServiceBusyError, TooManyRequestsError, UserServiceId,
  type Actor, type AppEnv, type Logger, type Services, type UploadProtocol, type UserIdentity,
} from '../../core/api.js';
import { CamcopsUserError, failUser } from './camcops-errors.js';
import { formatReply, type ReplyItems } from './camcops-reply.js';
import { compareVersions, MINIMUM_CLIENT_VERSION, parseCamcopsVersion } from './camcops-version.js';
import type { ClientTableRegistry } from './client-table-registry.js';
import { explicitUploadGroup } from './camcops-settings.js';
import { findDevice, lockDevice } from './device-store.js';
import { infoOperations } from './info-operations.js';
import { type Operation, type OperationContext, type ServerInfo } from './operation-context.js';
import { SessionStore, type TabletSession } from './session-store.js';
import { SqlRunner } from './sql-runner.js';
import { uploadOperations } from './upload-operations.js';
import { isPatientUser, serverPatientOperations } from './server-patients.js';
import { describeChanges } from './upload-changes.js';

/** The plugin's settings the API needs. */
export interface CamcopsApiSettings {
  server: ServerInfo;
  sessionTimeoutMinutes: number;
  maxRequestBytes: number;
  /** Least organisation role that may register devices / upload. */
  registerRole: 'member' | 'editor' | 'admin';
  uploadRole: 'member' | 'editor' | 'admin';
}

const RANK = { member: 1, editor: 2, admin: 3 } as const;
const OPERATIONS: Record<string, Operation> = { ...infoOperations, ...serverPatientOperations, ...uploadOperations };
// The reference answers this, with HTTP 400, when it cannot make a tablet session of the
// request (cc_tabletsession.py: no or nonsensical camcops_version, a client older than the
// minimum); client_api.py's client_api view.
const INVALID_REQUEST = 'Not a valid CamCOPS API request\n';

/** A body larger than the limit. */
class BodyTooLarge extends Error {}

/** The CamCOPS upload protocol. */
export class CamcopsApi implements UploadProtocol {
  readonly name = 'camcops';
  private readonly sessions: SessionStore;

  constructor(
    private readonly services: Services,
    private readonly tables: () => ClientTableRegistry,
    private readonly settings: CamcopsApiSettings,
    private readonly logger: Logger,
  ) {
    this.sessions = new SessionStore(settings.sessionTimeoutMinutes * 60_000);
  }

  mount(app: Hono<AppEnv>): void {
    for (const path of ['/api', '/database']) {
      app.post(path, (c) => this.handle(c));
      app.all(path, (c) => c.text(`${INVALID_REQUEST.trim()}: send an HTTP POST`, 405));
    }
  }

  private async handle(c: Context<AppEnv>): Promise<Response> {
    let params: URLSearchParams;
    try {
      params = new URLSearchParams(await readLimited(c.req.raw, this.settings.maxRequestBytes));
    } catch (error) {
      if (error instanceof BodyTooLarge) return c.text(`request larger than ${this.settings.maxRequestBytes} bytes`, 413);
      throw error;
    }
    // As the reference's get_str_param, a blank parameter is a missing one.
    const operation = params.get('operation') || undefined;
    const versionText = params.get('camcops_version') || '';
    const deviceName = params.get('device');
    // The reference reads a missing version as 0.0.0, which is too old.
    const clientVersion = parseCamcopsVersion(versionText);
    if (!deviceName || !clientVersion || compareVersions(clientVersion, MINIMUM_CLIENT_VERSION) < 0) return c.text(INVALID_REQUEST, 400);

    const db = this.services.get(DatabaseId);
    const outside = new SqlRunner(db.sequelize, db.dialect, undefined);
    const address = c.get('address');
    const nowMs = Date.now();
    let session = await this.sessions.resolve(outside, params.get('session_id') ?? undefined, params.get('session_token') ?? undefined, address, nowMs);
    let reply: ReplyItems;
    let status = 200;
    try {
      // The reference's fail_unsupported_operation, with Python's None for a missing one.
      const op = operation === undefined ? undefined : Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
      if (!op) failUser(`operation=${operation === undefined ? 'None' : operation.slice(0, 64)}: not supported`);
      const login = await this.login(outside, params, session, address, nowMs);
      session = login.session;
      const user = login.user;
      const actor: Actor = user ? { kind: 'user', user } : { kind: 'anonymous' };
      const result = await this.services.get(ActionRunnerId).runInTransaction(
        { actor, address, requestId: c.get('requestId') },
        async (actx) => {
          const sql = new SqlRunner(db.sequelize, db.dialect, actx.transaction);
          const device = await findDevice(sql, deviceName);
          let groupId: string | undefined;
          if (op.access !== 'anyone') {
            if (!user) failUser('Log in first: send user and password');
            groupId = await this.uploadGroup(sql, user, op.access === 'registration' ? this.settings.registerRole : this.settings.uploadRole, op.access);
            if (op.access === 'upload' && !device) failUser('Unregistered device');
            if (device && op.access === 'upload') await lockDevice(sql, device.id);
          }
          const ctx = this.operationContext(params, sql, clientVersion, versionText, deviceName, device, user, groupId, address);
          return op.run(ctx);
        },
        `camcops.${operation!}`,
      );
      reply = result === undefined ? { result: operation! } : typeof result === 'string' ? { result } : { ...result };
      reply.success = 1;
    } catch (error) {
      if (error instanceof CamcopsUserError) {
        this.logger.info('camcops request refused', { operation, reason: error.message });
        reply = { success: 0, error: error.message };
      } else {
        // Database messages can quote values, which may identify patients: log the kind only.
        const requestId = c.get('requestId');
        this.logger.error('camcops request failed', { operation, requestId, error: error instanceof Error ? error.name : 'unknown', code: errorCode(error) });
        status = 503;
        reply = { success: 0, error: `Database Unavailable: the server could not complete the request; quote request id ${requestId} to the administrator` };
      }
    }
    // Only a request that succeeded keeps a session; a refused one (a failed login) stores none.
    if (reply.success === 1 && !session.stored) session = await this.sessions.keep(outside, session, address, nowMs);
    reply.session_id = session.id;
    reply.session_token = session.token;
    return new Response(formatReply(reply), { status, statusText: status === 503 ? 'Database Unavailable' : 'OK', headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }

  /** Logs in when `user` is sent; a session already logged in as that user needs no password. */
  private async login(sql: SqlRunner, params: URLSearchParams, session: TabletSession, address: string, nowMs: number): Promise<{ session: TabletSession; user: UserIdentity | undefined }> {
    const name = params.get('user');
    if (!name) return { session, user: undefined };
    const users = this.services.get(UserServiceId);
    if (session.userId) {
      const known = await users.find(session.userId);
      if (known && known.name === name) return { session, user: { id: known.id, name: known.name, sysadmin: known.sysadmin } };
    }
    let user;
    try {
      // Core's sign-in: limited per address and name, and one answer for every refusal.
      user = await this.services.get(PasswordLoginId).login({ name, password: params.get('password') ?? '', address, via: 'camcops' });
    } catch (error) {
      if (error instanceof TooManyRequestsError || error instanceof ServiceBusyError) failUser(error.message);
      failUser('Invalid username/password');
    }
    return { session: await this.sessions.login(sql, session, user.id, address, nowMs), user: { id: user.id, name: user.name, sysadmin: user.sysadmin } };
  }

  /** The user's upload group, checking their role in it. */
  private async uploadGroup(sql: SqlRunner, user: UserIdentity, least: keyof typeof RANK, access: string): Promise<string> {
    const orgs = this.services.get(OrganizationServiceId);
    const explicit = await explicitUploadGroup(sql, user.id);
    let groupId = explicit?.organizationId;
    if (!groupId) {
      const memberships = await orgs.membershipsOf(user.id);
      if (memberships.size !== 1) failUser(`User '${user.name}' has no upload group; an administrator sets one with the camcops_upload_group_set action`);
      groupId = [...memberships.keys()][0]!;
    }
    if (user.sysadmin) return groupId;
    // A user made for a patient's tablet may register and upload into that group only.
    if (await isPatientUser(sql, user.id, groupId)) return groupId;
    const role = await orgs.roleOf(user.id, groupId, sql.transaction);
    // CamCOPS's "may register devices": a member of the upload group may register tablets there without its register role.
    if (role && access === 'registration' && explicit?.mayRegisterDevices) return groupId;
    if (!role || RANK[role] < RANK[least]) {
      failUser(access === 'registration' ? `User '${user.name}' may not register devices in their upload group (needs role ${least})` : `User '${user.name}' may not upload into their upload group (needs role ${least})`);
    }
    return groupId;
  }

  private operationContext(params: URLSearchParams, sql: SqlRunner, clientVersion: readonly [number, number, number], versionText: string, deviceName: string, device: Awaited<ReturnType<typeof findDevice>>, user: UserIdentity | undefined, groupId: string | undefined, address: string): OperationContext {
    const audit = this.services.get(AuditLogId);
    const logger = this.logger;
    return {
      params, sql, tables: this.tables(), clientVersion, clientVersionText: versionText.trim(), deviceName, device, user, groupId,
      now: new Date().toISOString(), server: this.settings.server, audit, address, services: this.services,
      async auditUpload(changes, how) {
        for (const change of changes) {
          await audit.record(
            {
              actor: { kind: 'user', user: user! },
              action: 'camcops.upload',
              objectType: 'camcops_table',
              objectId: change.table,
              address,
              details: { device: deviceName, group: groupId, mode: how, added: change.added, modified: change.modified, deleted: change.deleted, preserved: change.preserved, current: change.current, already_preserved: change.alreadyPreserved },
            },
            sql.transaction,
          );
        }
        logger.info('camcops upload', { device: deviceName, mode: how, tables: changes.map(describeChanges).join('; ') || 'no changes' });
      },
    };
  }
}

function errorCode(error: unknown): string | undefined {
  const original = (error as { original?: { code?: unknown }; parent?: { code?: unknown } } | undefined)?.original ?? (error as { parent?: { code?: unknown } } | undefined)?.parent;
  return typeof original?.code === 'string' ? original.code : undefined;
}

/** Reads a request body as text, refusing more than `limit` bytes without buffering them. */
async function readLimited(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw new BodyTooLarge();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
