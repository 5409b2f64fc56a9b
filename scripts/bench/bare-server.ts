// The ceiling for the API benchmark: a bare hono route returning a constant JSON body,
// served the same way as the platform (@hono/node-server), in a process of its own.
// Listens on 127.0.0.1:$PORT (any free port when unset) and prints its URL on stdout.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
const body = { help: 'bare', success: true, result: { name: 'constant', title: 'A constant body' } };
app.get('/bare', (c) => c.json(body));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (info) => {
  process.stdout.write(`listening on http://127.0.0.1:${info.port}\n`);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
