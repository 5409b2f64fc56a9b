// The shipped pdf-identifier check keeps the FileCheck contract; poppler's pdftotext (the real
// reader it runs) reads PDFs made by test-pdf.ts, and refuses one that is not a PDF at all.
import { pdfIdentifierCheck } from '../../../plugins/distribution/pdf-identifier-check.js';
import { runFileCheckContract } from '../../contracts/file-check.js';
import { makePdf } from './test-pdf.js';

runFileCheckContract({
  name: 'pdf-identifier',
  make: async () => ({
    check: pdfIdentifierCheck(/^([A-Z]{3}\d+)/),
    passed: [
      { name: 'ABC123_results.pdf', mimeType: 'application/pdf', content: makePdf(['cover page', 'Patient ABC123', 'notes']) },
      { name: 'XYZ9_letter.pdf', mimeType: 'application/pdf', content: makePdf(['Re: XYZ9']) },
    ],
    refused: [
      { name: 'ABC124_results.pdf', mimeType: 'application/pdf', content: makePdf(['Patient ABC999']) },
      { name: 'no-identifier.pdf', mimeType: 'application/pdf', content: makePdf(['ABC123']) },
      { name: 'ABC125_truncated.pdf', mimeType: 'application/pdf', content: Buffer.from('%PDF-1.4 truncated') },
    ],
    ignored: [
      { name: 'ABC123_results.csv', mimeType: 'text/plain', content: Buffer.from('id\nABC123\n') },
      { name: 'ABC123_scan.png', mimeType: 'image/png', content: Buffer.from('\x89PNG\r\n\x1a\n', 'binary') },
    ],
  }),
});
