// What the distribution tables hold, as the plugin sees it: files, the events of their lives,
// remote folders, reading positions and upload points, and how their rows map to these records.

/** Where a file is in its life. `acknowledged` is not a state: see `acknowledgedAt`. */
/** `held`: an administrator stopped its delivery until it is released. */
export type FileState = 'received' | 'routed' | 'unroutable' | 'sending' | 'sent' | 'archived' | 'failed' | 'rejected' | 'held';

/** What happened to a file, as recorded in its history. */
export type EventKind = 'received' | 'checked' | 'routed' | 'unroutable' | 'anonymised' | 'sending' | 'sent' | 'failed' | 'archived' | 'acknowledged' | 'rejected' | 'duplicate' | 'held' | 'released';

/** How a file entered distribution. */
export type FileSource = 'drop' | 'cli' | 'upload' | 'resource';

/** One file known to distribution. */
export interface DistributedFile {
  id: string;
  name: string;
  sha256: string | undefined;
  size: number | undefined;
  mimeType: string | undefined;
  source: FileSource;
  sourceRef: string | undefined;
  state: FileState;
  reason: string | undefined;
  label: string | undefined;
  tag: string | undefined;
  destination: string | undefined;
  folder: string | undefined;
  remoteLocation: string | undefined;
  localPath: string | undefined;
  /** What is sent, when it differs from what was received (an anonymised copy): its sha256 and size. */
  sentSha256: string | undefined;
  sentSize: number | undefined;
  /** The name the anonymised copy is sent under, when the anonymiser changed it. */
  sentName: string | undefined;
  receivedAt: Date;
  sentAt: Date | undefined;
  archivedAt: Date | undefined;
  acknowledgedAt: Date | undefined;
  acknowledgedBy: string | undefined;
  acknowledgedFrom: string | undefined;
  /** The authenticated user and the user agent of the first acknowledgement, when its source named them. */
  acknowledgedUser: string | undefined;
  acknowledgedAgent: string | undefined;
  updatedAt: Date;
}

/** One event of a file's life. */
export interface FileEvent {
  id: number;
  fileId: string | undefined;
  fileName: string;
  kind: EventKind;
  at: Date;
  actor: string | undefined;
  address: string | undefined;
  /** Of an acknowledgement: the authenticated user and the user agent its log line names. */
  remoteUser: string | undefined;
  userAgent: string | undefined;
  detail: string | undefined;
}

/** A row of the remote folders table. */
export interface RemoteFolder {
  label: string;
  tag: string;
  folder: string;
  base: string;
}

/** How far an upload to a resumable destination got (a tus upload's URL and offset). */
export interface TransferPoint {
  destination: string;
  folder: string;
  /** The sha256 of the bytes being uploaded: a point is only resumed for the same bytes. */
  sha256: string;
  url: string;
  offset: number;
}

/** A saved reading position: of a log file (inode, head fingerprint, byte offset) or of an event id. */
export interface Cursor {
  inode: string | undefined;
  head?: string | undefined;
  position: number;
}

/** Filters of history searches. */
export interface FileFilter {
  since?: Date;
  until?: Date;
  label?: string;
  folder?: string;
  /** A state (`sent`: every file that was sent, archived since or not), or `pending` (received, not sent), `acknowledged`, `unacknowledged` (sent, not acknowledged). */
  state?: FileState | 'pending' | 'acknowledged' | 'unacknowledged';
  /** Part of the file name, in any case. */
  name?: string;
  /** Sent before this moment (for "unacknowledged after N days"). */
  sentBefore?: Date;
  limit?: number;
}

/** Fields of a new file. */
export type NewFile = Pick<DistributedFile, 'name' | 'source'> & Partial<Pick<DistributedFile, 'sha256' | 'size' | 'mimeType' | 'sourceRef' | 'localPath'>>;

/** An event to record together with a change. */
export interface EventInput {
  kind: EventKind;
  detail?: string;
  actor?: string;
  address?: string;
  remoteUser?: string;
  userAgent?: string;
  at?: Date;
}

export const PENDING_STATES: readonly FileState[] = ['received', 'routed', 'unroutable', 'sending', 'failed', 'held'];

/** A row as sequelize reads or writes it (field names). */
export type Row = Record<string, unknown>;

/** Column names of `distribution_events` by field name. */
export const EVENT_COLUMNS: Record<string, string> = { fileId: 'file_id', fileName: 'file_name', kind: 'kind', at: 'at', actor: 'actor', address: 'address', remoteUser: 'remote_user', userAgent: 'user_agent', detail: 'detail' };

/** Fields that usually differ from file to file within a batch (set through CASE). */
export const PER_FILE = new Set(['localPath', 'remoteLocation', 'reason', 'sentSha256', 'sentSize', 'sentName']);

/** Column names of `distribution_files` by field name. */
export const COLUMNS: Record<string, string> = {
  name: 'name', sha256: 'sha256', size: 'size', mimeType: 'mime_type', source: 'source', sourceRef: 'source_ref', state: 'state', reason: 'reason',
  label: 'label', tag: 'tag', destination: 'destination', folder: 'folder', remoteLocation: 'remote_location', localPath: 'local_path',
  sentSha256: 'sent_sha256', sentSize: 'sent_size', sentName: 'sent_name',
  receivedAt: 'received_at', sentAt: 'sent_at', archivedAt: 'archived_at', acknowledgedAt: 'acknowledged_at', acknowledgedBy: 'acknowledged_by',
  acknowledgedFrom: 'acknowledged_from', acknowledgedUser: 'acknowledged_user', acknowledgedAgent: 'acknowledged_agent', updatedAt: 'updated_at',
};

/** NULL as undefined. */
export const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
/** A database time as a Date. */
export const date = (v: unknown): Date | undefined => (v === null || v === undefined ? undefined : v instanceof Date ? v : new Date(String(v)));

/** A `distribution_files` row as a file. */
export function toFile(r: Row): DistributedFile {
  return {
    id: String(r.id), name: String(r.name), sha256: opt(r.sha256 as string | null), size: r.size === null || r.size === undefined ? undefined : Number(r.size),
    mimeType: opt(r.mimeType as string | null), source: r.source as FileSource, sourceRef: opt(r.sourceRef as string | null), state: r.state as FileState,
    reason: opt(r.reason as string | null), label: opt(r.label as string | null), tag: opt(r.tag as string | null), destination: opt(r.destination as string | null),
    folder: opt(r.folder as string | null), remoteLocation: opt(r.remoteLocation as string | null), localPath: opt(r.localPath as string | null),
    sentSha256: opt(r.sentSha256 as string | null), sentSize: r.sentSize === null || r.sentSize === undefined ? undefined : Number(r.sentSize),
    sentName: opt(r.sentName as string | null),
    receivedAt: date(r.receivedAt)!, sentAt: date(r.sentAt), archivedAt: date(r.archivedAt), acknowledgedAt: date(r.acknowledgedAt),
    acknowledgedBy: opt(r.acknowledgedBy as string | null), acknowledgedFrom: opt(r.acknowledgedFrom as string | null),
    acknowledgedUser: opt(r.acknowledgedUser as string | null), acknowledgedAgent: opt(r.acknowledgedAgent as string | null), updatedAt: date(r.updatedAt)!,
  };
}

/** A `distribution_events` row as an event. */
export function toEvent(r: Row): FileEvent {
  return { id: Number(r.id), fileId: opt(r.fileId as string | null), fileName: String(r.fileName), kind: r.kind as EventKind, at: date(r.at)!, actor: opt(r.actor as string | null), address: opt(r.address as string | null), remoteUser: opt(r.remoteUser as string | null), userAgent: opt(r.userAgent as string | null), detail: opt(r.detail as string | null) };
}

/** The result of recording a new file: its record, or the file it duplicates. */
export type ReceiveOutcome = { file: DistributedFile } | { duplicateOf: DistributedFile; by: 'name' | 'sha256' };

/** The name a file has at its destination: its anonymised copy's, when the anonymiser renamed it. */
export function remoteName(file: Pick<DistributedFile, 'name' | 'sentName'>): string {
  return file.sentName ?? file.name;
}
