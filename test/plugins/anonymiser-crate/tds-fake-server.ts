// A fake SQL Server for tests: a net.Server on a loopback port that speaks enough MS-TDS 7.4
// for tedious 19 (and so sequelize's mssql dialect) with encryption off. No SQL Server can run
// on the development machine and npm has no TDS server, so the connection, retry and error
// paths of the SQL Server code are tested against this.
//
// What it does: PRELOGIN (answering ENCRYPT_NOT_SUP, so no TLS), LOGIN7 checked against a user
// table (LOGINACK with database, collation and packet-size ENVCHANGEs, or ERROR 18456), then
// SQL_BATCH and RPC (sp_executesql, which is how tedious sends sequelize's queries) answered
// from rules: a result set, DONE with a row count, an ERROR token, a reply cut off by dropping
// the socket, or silence. Transaction-manager requests and ATTENTION are acknowledged.
// Behaviours for retry tests: reset the first N connections, never answer the first N
// connections' PRELOGIN, delay every reply.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  CurCmd, DoneStatus, EnvChange, LATIN1_CI_AS, PacketType, TmRequest, TokenType, TdsMessageReader, colMetadataToken, doneToken,
  envChangeBytes, envChangeText, errorToken, framePackets, infoToken, loginAckToken, parseLogin7, parseRpcStatement,
  parseSqlBatch, parseTransactionRequest, preloginReply, returnStatusToken, rowToken, type FakeColumn, type TdsMessage,
} from './tds-packets.js';

/** What the fake answers to a statement. */
export type FakeTdsReply =
  /** A result set: COLMETADATA, one ROW per row, and DONE with the row count. */
  | { kind: 'rows'; columns: readonly FakeColumn[]; rows: ReadonlyArray<readonly unknown[]> }
  /** DONE with a row count, as for DDL and DML. */
  | { kind: 'done'; rowCount?: number }
  /** An ERROR token (class 16 and state 1 unless given), then DONE with the error bit. */
  | { kind: 'error'; number: number; message: string; state?: number; class?: number; lineNumber?: number }
  /** The start of a result set in a packet without end-of-message, then the socket is destroyed. */
  | { kind: 'drop' }
  /** No answer at all: only the client's own timeout ends the wait (tedious then sends ATTENTION, which is acknowledged). */
  | { kind: 'silence' };

/** A scripted answer: the first rule whose `match` finds the statement's SQL is used. */
export interface FakeTdsRule {
  match: RegExp;
  reply: FakeTdsReply | ((sql: string) => FakeTdsReply);
  /** Milliseconds to wait before answering (overrides `replyDelayMs`). */
  delayMs?: number;
}

/** How the fake behaves. */
export interface FakeTdsOptions {
  /** user → password; default `{ anon: 'fake-Passw0rd' }`. */
  users?: Readonly<Record<string, string>>;
  /** The server's name in LOGINACK and messages; default `FAKESQL`. */
  serverName?: string;
  /** Rules tried before the built-in ones (see {@link builtInReply}). */
  rules?: FakeTdsRule[];
  /** Accept and immediately reset (RST) the first N connections: a server not yet ready. */
  resetFirst?: number;
  /** Never answer the PRELOGIN of the N connections after the reset ones: a server too slow to answer in time. */
  stallFirst?: number;
  /** Milliseconds to wait before every reply: a slow server. */
  replyDelayMs?: number;
  /** Port to listen on (default: any free one); always on 127.0.0.1. */
  port?: number;
}

/** A login the fake saw. */
export interface FakeTdsLogin {
  userName: string;
  database: string;
  appName: string;
  accepted: boolean;
}

const PRODUCT_VERSION = '15.0.2000.5';
const VERSION_BANNER = `Microsoft SQL Server 2019 (RTM) - ${PRODUCT_VERSION} (X64) -- fake TDS endpoint for tests`;

/**
 * The fake's answers when no rule matched: what tedious and sequelize send by themselves
 * (tedious' `set ...` batch after login, sequelize's version query, `SELECT 1+1 AS result`
 * from authenticate), `SELECT <integer> [AS name]`, `SELECT @@VERSION`, and DONE for anything
 * that is not a query. An unscripted SELECT is answered with an error, so that a test that
 * forgot a rule fails loudly instead of getting an empty result.
 */
export function builtInReply(sql: string): FakeTdsReply {
  const text = sql.trim();
  if (/SERVERPROPERTY\('ProductVersion'\)/i.test(text)) return { kind: 'rows', columns: [{ name: 'version', type: 'nvarchar' }], rows: [[PRODUCT_VERSION.split('.').slice(0, 3).join('.')]] };
  const version = /^SELECT\s+@@VERSION(?:\s+AS\s+['[]?(\w+)['\]]?)?\s*;?$/i.exec(text);
  if (version) return { kind: 'rows', columns: [{ name: version[1] ?? '', type: 'nvarchar' }], rows: [[VERSION_BANNER]] };
  const sum = /^SELECT\s+(-?\d+)(?:\s*\+\s*(-?\d+))?(?:\s+AS\s+['[]?(\w+)['\]]?)?\s*;?$/i.exec(text);
  if (sum) return { kind: 'rows', columns: [{ name: sum[3] ?? '', type: 'int' }], rows: [[Number(sum[1]) + Number(sum[2] ?? 0)]] };
  if (/^(SELECT|WITH)\b/i.test(text)) return { kind: 'error', number: 50000, class: 16, message: `the fake TDS endpoint has no rule for this query: ${text.slice(0, 200)}` };
  return { kind: 'done', rowCount: 0 };
}

/** Per-connection state. */
interface Session {
  socket: Socket;
  reader: TdsMessageReader;
  packetSize: number;
  loggedIn: boolean;
  stalled: boolean;
  /** Replies are written in order: each message waits for the previous reply. */
  queue: Promise<void>;
  /** Delayed replies waiting to go; ending or cancelling the session settles them with false. */
  pending: Map<NodeJS.Timeout, (go: boolean) => void>;
  /** Set by ATTENTION: a pending delayed reply is dropped and only the acknowledgement is sent. */
  cancelled: boolean;
  /** A request has been received and not yet answered (a silent or delayed reply). */
  unanswered: boolean;
  transaction: Buffer | undefined;
}

/** A running fake SQL Server; create it with {@link FakeTdsServer.start}. */
export class FakeTdsServer {
  /** Scripted answers, tried in order before {@link builtInReply}; tests may change them at any time. */
  readonly rules: FakeTdsRule[];
  /** TCP connections accepted so far (reset and stalled ones included). */
  connections = 0;
  /** Logins seen, accepted or not. */
  readonly logins: FakeTdsLogin[] = [];
  /** SQL of every statement received after login, in order (tedious' own `set` batch included). */
  readonly statements: string[] = [];

  private readonly sessions = new Set<Session>();
  private readonly users: Readonly<Record<string, string>>;
  private readonly serverName: string;

  private constructor(private readonly server: Server, private readonly options: FakeTdsOptions) {
    this.rules = [...(options.rules ?? [])];
    this.users = options.users ?? { anon: 'fake-Passw0rd' };
    this.serverName = options.serverName ?? 'FAKESQL';
    server.on('connection', (socket) => this.accept(socket));
  }

  /**
   * Starts listening on 127.0.0.1.
   * @throws Error when the port cannot be bound
   */
  static async start(options: FakeTdsOptions = {}): Promise<FakeTdsServer> {
    const server = createServer();
    const fake = new FakeTdsServer(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return fake;
  }

  /** The port it listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * An `mssql://` URL for this server, with `encrypt=false` (the fake has no TLS).
   * @param database - default `clinical`
   */
  url(user: string, password: string, database = 'clinical'): string {
    return `mssql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}?encrypt=false`;
  }

  /** Stops listening and destroys every open connection. */
  async close(): Promise<void> {
    for (const session of this.sessions) this.end(session);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const index = ++this.connections;
    socket.on('error', () => undefined); // a client going away mid-write is not the fake's concern
    if (index <= (this.options.resetFirst ?? 0)) {
      socket.resetAndDestroy();
      return;
    }
    const session: Session = {
      socket, reader: new TdsMessageReader(), packetSize: 4096, loggedIn: false, stalled: index <= (this.options.resetFirst ?? 0) + (this.options.stallFirst ?? 0),
      queue: Promise.resolve(), pending: new Map(), cancelled: false, unanswered: false, transaction: undefined,
    };
    this.sessions.add(session);
    socket.on('close', () => this.end(session));
    socket.on('data', (chunk: Buffer) => {
      let messages: TdsMessage[];
      try {
        messages = session.reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const message of messages) {
        if (message.type === PacketType.ATTENTION) {
          // ATTENTION overtakes the queue: it cancels whatever reply is still pending.
          session.cancelled = true;
          this.settlePending(session);
          // Tedious reads one message as the cancelled request's reply and the next as the
          // acknowledgement, so an unanswered request first gets an empty reply.
          session.queue = session.queue.then(() => {
            session.cancelled = false;
            if (session.unanswered) this.send(session, doneToken(DoneStatus.FINAL, CurCmd.OTHER));
            session.unanswered = false;
            this.send(session, doneToken(DoneStatus.ATTN, CurCmd.OTHER));
          });
          continue;
        }
        session.queue = session.queue.then(() => this.handle(session, message)).catch(() => void socket.destroy());
      }
    });
  }

  private settlePending(session: Session): void {
    for (const [timer, resolve] of session.pending) {
      clearTimeout(timer);
      resolve(false);
    }
    session.pending.clear();
  }

  private end(session: Session): void {
    this.settlePending(session);
    session.socket.destroy();
    this.sessions.delete(session);
  }

  private send(session: Session, payload: Buffer, eom = true): void {
    session.unanswered = false;
    if (!session.socket.destroyed) session.socket.write(framePackets(PacketType.TABULAR_RESULT, payload, session.packetSize, eom));
  }

  /** Waits `ms` unless the session ends or is cancelled first; resolves true if the reply should still go. */
  private wait(session: Session, ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(!session.socket.destroyed);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        session.pending.delete(timer);
        resolve(!session.socket.destroyed && !session.cancelled);
      }, ms);
      session.pending.set(timer, resolve);
    });
  }

  private async handle(session: Session, message: TdsMessage): Promise<void> {
    if (session.stalled) return;
    switch (message.type) {
      case PacketType.PRELOGIN:
        if (await this.wait(session, this.options.replyDelayMs ?? 0)) this.send(session, preloginReply());
        return;
      case PacketType.LOGIN7:
        if (await this.wait(session, this.options.replyDelayMs ?? 0)) this.login(session, message.payload);
        return;
      case PacketType.SQL_BATCH:
      case PacketType.RPC_REQUEST:
        if (!session.loggedIn) return void session.socket.destroy();
        await this.statement(session, message);
        return;
      case PacketType.TRANSACTION_MANAGER:
        if (!session.loggedIn) return void session.socket.destroy();
        if (await this.wait(session, this.options.replyDelayMs ?? 0)) this.transaction(session, message.payload);
        return;
      default:
        this.send(session, Buffer.concat([
          errorToken({ number: 50000, state: 1, class: 16, message: `the fake TDS endpoint does not handle packets of type 0x${message.type.toString(16)}`, serverName: this.serverName }),
          doneToken(DoneStatus.ERROR, CurCmd.OTHER),
        ]));
    }
  }

  private login(session: Session, payload: Buffer): void {
    const login = parseLogin7(payload);
    const accepted = Object.hasOwn(this.users, login.userName) && this.users[login.userName] === login.password;
    const database = login.database || 'master';
    this.logins.push({ userName: login.userName, database, appName: login.appName, accepted });
    if (!accepted) {
      // What SQL Server sends for a wrong user or password; the reason (state 8: password
      // mismatch, 5: no such login) is only in the server's log, never told to the client.
      this.send(session, Buffer.concat([
        errorToken({ number: 18456, state: 1, class: 14, message: `Login failed for user '${login.userName}'.`, serverName: this.serverName }),
        doneToken(DoneStatus.ERROR, CurCmd.OTHER),
      ]));
      session.socket.end();
      return;
    }
    session.loggedIn = true;
    const packetSize = login.packetSize >= 512 && login.packetSize <= 32767 ? login.packetSize : 4096;
    this.send(session, Buffer.concat([
      envChangeText(EnvChange.DATABASE, database, 'master'),
      infoToken({ number: 5701, state: 2, class: 0, message: `Changed database context to '${database}'.`, serverName: this.serverName }),
      envChangeBytes(EnvChange.SQL_COLLATION, LATIN1_CI_AS, Buffer.alloc(0)),
      envChangeText(EnvChange.LANGUAGE, 'us_english', ''),
      loginAckToken(this.serverName),
      envChangeText(EnvChange.PACKET_SIZE, String(packetSize), String(session.packetSize)),
      doneToken(DoneStatus.FINAL, CurCmd.OTHER),
    ]));
    session.packetSize = packetSize;
  }

  private async statement(session: Session, message: TdsMessage): Promise<void> {
    const rpc = message.type === PacketType.RPC_REQUEST;
    const sql = rpc ? parseRpcStatement(message.payload) : parseSqlBatch(message.payload);
    this.statements.push(sql);
    session.unanswered = true;
    const rule = this.rules.find((r) => r.match.test(sql));
    const reply = rule ? (typeof rule.reply === 'function' ? rule.reply(sql) : rule.reply) : builtInReply(sql);
    if (reply.kind === 'silence') return;
    if (!(await this.wait(session, rule?.delayMs ?? this.options.replyDelayMs ?? 0))) return;
    // A batch ends with DONE; an RPC's statement ends with DONEINPROC, then the procedure's
    // RETURNSTATUS and DONEPROC, as SQL Server answers sp_executesql.
    const finish = (status: number, curCmd: number, rowCount = 0): Buffer => rpc
      ? Buffer.concat([doneToken(status | DoneStatus.MORE, curCmd, rowCount, TokenType.DONEINPROC), returnStatusToken(status & DoneStatus.ERROR ? -6 : 0), doneToken(status & DoneStatus.ERROR, CurCmd.EXECUTE, 0, TokenType.DONEPROC)])
      : doneToken(status, curCmd, rowCount);
    switch (reply.kind) {
      case 'rows':
        this.send(session, Buffer.concat([colMetadataToken(reply.columns), ...reply.rows.map((r) => rowToken(reply.columns, r)), finish(DoneStatus.COUNT, CurCmd.SELECT, reply.rows.length)]));
        return;
      case 'done':
        this.send(session, finish(DoneStatus.COUNT, commandOf(sql), reply.rowCount ?? 0));
        return;
      case 'error':
        this.send(session, Buffer.concat([
          errorToken({ number: reply.number, state: reply.state ?? 1, class: reply.class ?? 16, message: reply.message, serverName: this.serverName, lineNumber: reply.lineNumber ?? 1 }),
          finish(DoneStatus.ERROR, commandOf(sql)),
        ]));
        return;
      case 'drop': {
        const columns: FakeColumn[] = [{ name: 'n', type: 'int' }];
        this.send(session, Buffer.concat([colMetadataToken(columns), rowToken(columns, [1])]), false);
        session.socket.destroy();
        return;
      }
    }
  }

  private transaction(session: Session, payload: Buffer): void {
    const request = parseTransactionRequest(payload);
    if (request === TmRequest.BEGIN) {
      const descriptor = Buffer.alloc(8);
      descriptor.writeBigUInt64LE(BigInt(this.connections) << 16n | BigInt(this.statements.length & 0xffff));
      session.transaction = descriptor;
      this.send(session, Buffer.concat([envChangeBytes(EnvChange.BEGIN_TXN, descriptor, Buffer.alloc(0)), doneToken(DoneStatus.FINAL, CurCmd.OTHER)]));
    } else if (request === TmRequest.COMMIT || request === TmRequest.ROLLBACK) {
      const old = session.transaction ?? Buffer.alloc(8);
      session.transaction = undefined;
      this.send(session, Buffer.concat([envChangeBytes(request === TmRequest.COMMIT ? EnvChange.COMMIT_TXN : EnvChange.ROLLBACK_TXN, Buffer.alloc(0), old), doneToken(DoneStatus.FINAL, CurCmd.OTHER)]));
    } else {
      this.send(session, doneToken(DoneStatus.FINAL, CurCmd.OTHER));
    }
  }
}

/** The CurCmd a real server reports for a statement (clients do not depend on it). */
function commandOf(sql: string): number {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase();
  return verb === 'INSERT' ? CurCmd.INSERT : verb === 'UPDATE' ? CurCmd.UPDATE : verb === 'DELETE' ? CurCmd.DELETE : verb === 'SELECT' ? CurCmd.SELECT : CurCmd.OTHER;
}

/**
 * A loopback port with nothing listening on it: a server that never comes up. The port was
 * bound and released, so a connection to it is refused unless something else takes it.
 */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
