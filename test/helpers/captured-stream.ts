// A writable stream that keeps what was written and says whether it is a terminal, for
// testing what commands draw on stderr (progress bars only on a terminal).
import { Writable } from 'node:stream';

/** A stream for a command's output: `text()` is everything written so far. */
export type CapturedStream = Writable & { isTTY: boolean; text(): string };

export function capturedStream(isTTY: boolean): CapturedStream {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (chunks.push(Buffer.from(chunk)), done()) }) as CapturedStream;
  stream.isTTY = isTTY;
  stream.text = () => Buffer.concat(chunks).toString('utf8');
  return stream;
}
