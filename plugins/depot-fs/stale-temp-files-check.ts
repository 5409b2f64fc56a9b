// Inspect: files left in the depot's tmp/ by writes that never finished (a process killed
// mid-put). They belong to nothing and only take space; older than an hour they are stale.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InspectCheck, InspectFinding } from '../../core/api.js';

/** Temporary files older than this are left from crashed writes. */
const STALE_MS = 3_600_000;

/** The stale temporary files check of depot-fs. */
export function staleTempFilesCheck(tmpDir: string): InspectCheck {
  return {
    area: 'depot',
    name: 'depot-fs temporary files',
    async run() {
      let names: string[];
      try {
        names = await readdir(tmpDir);
      } catch {
        return [{ severity: 'ok', title: `${tmpDir} does not exist yet; nothing is left over` }];
      }
      const now = Date.now();
      const stale: Array<{ path: string; size: number }> = [];
      for (const name of names) {
        const path = join(tmpDir, name);
        const info = await stat(path).catch(() => undefined);
        if (info?.isFile() && now - info.mtimeMs > STALE_MS) stale.push({ path, size: info.size });
      }
      if (!stale.length) return [{ severity: 'ok', title: `no stale temporary files in ${tmpDir}` }];
      const finding: InspectFinding = {
        severity: 'problem',
        title: `${stale.length} temporary file(s) in ${tmpDir} are left from writes that never finished`,
        why: `they take ${stale.reduce((sum, f) => sum + f.size, 0)} bytes and belong to no resource`,
        fix: 'platform inspect --only depot --repair removes them',
        details: stale.slice(0, 100).map((f) => `${f.path} (${f.size} bytes)`),
        repair: {
          description: `remove ${stale.length} stale temporary file(s)`,
          apply: async () => {
            for (const f of stale) await rm(f.path, { force: true });
            return `removed ${stale.length} file(s) from ${tmpDir}`;
          },
        },
      };
      return [finding];
    },
  };
}
