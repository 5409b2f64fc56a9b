// Remembers unfinished uploads on the client, so that `platform upload` run again
// continues each file from the server's offset. Keyed by server, dataset, file path, size
// and modification time: a changed file starts afresh.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where the state lives: `PLATFORM_UPLOAD_STATE`, else the user's cache directory. */
export function uploadStatePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.PLATFORM_UPLOAD_STATE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'platform', 'uploads.json');
}

/** The key of one file's upload. */
export function uploadKey(parts: { server: string; dataset: string; path: string; size: number; mtimeMs: number }): string {
  return [parts.server, parts.dataset, parts.path, parts.size, Math.round(parts.mtimeMs)].join('|');
}

/** A small JSON store of upload URLs, written atomically with mode 0600. */
export class UploadState {
  private readonly entries: Record<string, string>;

  constructor(private readonly file: string) {
    try {
      this.entries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      this.entries = {};
    }
  }

  get(key: string): string | undefined {
    return this.entries[key];
  }

  set(key: string, url: string): void {
    this.entries[key] = url;
    this.save();
  }

  delete(key: string): void {
    delete this.entries[key];
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(this.entries, null, 1), { mode: 0o600 });
    renameSync(temp, this.file);
  }
}
