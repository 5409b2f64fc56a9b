// The peer of the upload benchmark: @tus/server with its own FileStore, standing alone on
// node:http, storing into $TUS_DIR. Listens on 127.0.0.1:$PORT and prints its URL.
import { createServer } from 'node:http';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';

const directory = process.env.TUS_DIR;
if (!directory) throw new Error('set TUS_DIR to the directory the peer stores into');
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) });
const server = createServer((req, res) => void tus.handle(req, res));
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
