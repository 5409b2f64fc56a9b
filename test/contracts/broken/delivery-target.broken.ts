// A deliberately broken destination, run by contract-failures.test.ts to show that the delivery
// destination contract catches it: it writes straight under the final name (so a source that
// breaks off leaves half a file there), ignores its signal, and reports a URL with its password.
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { runDeliveryTargetContract, type DestinationUnderTest } from '../delivery-target.js';

function careless(root: string): DestinationUnderTest {
  const path = (folder: string, name: string): string => join(root, folder, name);
  const stat: DestinationUnderTest['stat'] = async (folder, name) => {
    try {
      return { location: `https://user:password@example.org/${folder}/${name}`, size: statSync(path(folder, name)).size };
    } catch {
      return undefined;
    }
  };
  return {
    name: 'careless',
    kind: 'folder',
    async send(file, folder) {
      mkdirSync(dirname(path(folder, file.name)), { recursive: true });
      writeFileSync(path(folder, file.name), '');
      await pipeline(file.open(), createWriteStream(path(folder, file.name)));
      return (await stat(folder, file.name, new AbortController().signal))!;
    },
    stat,
    remove: async (folder, name) => rmSync(path(folder, name), { force: true }),
    close: async () => undefined,
  };
}

runDeliveryTargetContract({
  name: 'careless',
  async make() {
    const root = mkdtempSync(join(tmpdir(), 'careless-target-'));
    return { target: careless(root), cleanup: async () => rmSync(root, { recursive: true, force: true }) };
  },
});
