// A deliberately broken anonymiser, run by contract-failures.test.ts to show that the
// Anonymiser contract catches it: it copies the file as it is (identifiers and all), and
// "refuses" by writing half a file and throwing a plain Error.
import { copyFileSync, writeFileSync } from 'node:fs';
import { ValidationError, type Anonymiser, type FileRecordDestination, type FileRecordSource } from '../../../core/api.js';
import { runAnonymiserContract } from '../anonymiser.js';

const copier: Anonymiser = {
  name: 'copier',
  async anonymise(source, _policy, destination) {
    if (source.kind !== 'file' || destination.kind !== 'file') throw new ValidationError('files only');
    const from = source as FileRecordSource;
    const to = destination as FileRecordDestination;
    if (from.mimeType === 'application/pdf') {
      writeFileSync(to.path, 'half');
      throw new Error('cannot read PDF');
    }
    copyFileSync(from.path, to.path);
    return { recordsRead: 1, recordsWritten: 1, destination };
  },
};

runAnonymiserContract({
  name: 'copier',
  make: async () => ({
    anonymiser: copier,
    accepted: [{ name: 'P1_letter.txt', mimeType: 'text/plain', content: Buffer.from('Dear Dr X, re: Jane Smith, NHS 9434765919'), policy: {}, mustNotContain: ['Jane', 'Smith', '9434765919'] }],
    refused: [{ name: 'P1_letter.pdf', mimeType: 'application/pdf', content: Buffer.from('%PDF-1.4 Jane Smith'), policy: {} }],
  }),
});
