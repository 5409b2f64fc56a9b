// A deliberately broken file check, run by contract-failures.test.ts to show that the FileCheck
// contract catches it: it applies to every file, ignores its signal, and refuses without a reason.
import type { FileCheck } from '../../../core/api.js';
import { runFileCheckContract } from '../file-check.js';

const careless: FileCheck = {
  name: 'careless',
  appliesTo: () => true,
  check: async (file) => (file.size > 3 ? { ok: true } : { ok: false, reason: '' }),
};

runFileCheckContract({
  name: 'careless',
  make: async () => ({
    check: careless,
    passed: [{ name: 'a.txt', mimeType: 'text/plain', content: Buffer.from('long enough') }],
    refused: [{ name: 'b.txt', mimeType: 'text/plain', content: Buffer.from('no') }],
    ignored: [{ name: 'c.png', mimeType: 'image/png', content: Buffer.from('png') }],
  }),
});
