// platform serve: the HTTP server, until SIGTERM or SIGINT.
import { basename, relative } from 'node:path';
import { startHttpServer } from '../../http/http-server.js';
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { DatabaseId, HostRuntimeId, PlatformConfigId, ReadCacheId } from '../../services/service-ids.js';

/** How this CLI was invoked, for printed hints: `platform`, or `node bin/platform.js` in a checkout. */
function cliInvocation(): string {
  const script = process.argv[1] ?? 'platform';
  if (basename(script) === 'platform') return 'platform';
  const rel = relative(process.cwd(), script);
  return `node ${rel.startsWith('..') ? script : rel}`;
}

/** The serve command. */
export function serveCommands(): CommandDefinition[] {
  return [
    {
      name: 'serve',
      summary: 'run the HTTP server, and a job worker unless [jobs] worker = external',
      needs: 'database',
      async run(_args, ctx) {
        const config = ctx.services.get(PlatformConfigId);
        const runtime = ctx.services.get(HostRuntimeId);
        const http = config.section<{ host: string; port: number; request_timeout_seconds: number; idle_timeout_seconds: number; headers_timeout_seconds: number }>('http');
        const app = runtime.app();
        await runtime.startPlugins();
        const jobs = config.section<{ worker: string; grace_seconds: number }>('jobs');
        const worker = jobs.worker === 'internal' ? runtime.jobWorker() : undefined;
        await worker?.start();
        // Other nodes' writes empty this node's read cache (PostgreSQL LISTEN/NOTIFY).
        await ctx.services.get(ReadCacheId).listen();
        const { server, port } = await startHttpServer(app.fetch, http.host, http.port, {
          requestTimeoutSeconds: http.request_timeout_seconds,
          idleTimeoutSeconds: http.idle_timeout_seconds,
          headersTimeoutSeconds: http.headers_timeout_seconds,
        });
        const url = `http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${port}`;
        ctx.stdout.write(`platform listening on ${url}\n`);
        const db = ctx.services.get(DatabaseId);
        const sysadmins = await db.models.User.count({ where: { sysadmin: true, state: 'active' } });
        if (sysadmins === 0) {
          ctx.stdout.write(`no sysadmin yet; create the first one with:\n  ${cliInvocation()} user add admin --email admin@example.org --sysadmin\n`);
        }
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            ctx.stderr.write(`${signal}: shutting down\n`);
            let pending = 2;
            const settled = (): void => void (--pending === 0 && resolve());
            server.close(settled);
            void (worker ? worker.stop(jobs.grace_seconds * 1000) : Promise.resolve()).then(settled, settled);
            // Idle keep-alive connections would hold close() open.
            (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
      },
    },
  ];
}

