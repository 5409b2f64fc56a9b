// A real nginx for tests and benchmarks: WebDAV PUT/DELETE/MKCOL on a free loopback port, in
// a temp dir of its own, with a combined-format access log; it can be stopped and started
// again on the same port (a server that is down), and `/full/` answers 507 like a full disk.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A running (or stopped) nginx WebDAV server. */
export class NginxWebDav {
  private process: ChildProcess | undefined;
  private auth = false;

  private constructor(readonly dir: string, readonly port: number, private readonly tls: boolean) {}

  /** The folder nginx serves and writes into. */
  get root(): string {
    return join(this.dir, 'www');
  }

  get accessLog(): string {
    return join(this.dir, 'logs', 'access.log');
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}/`;
  }

  /** The server's certificate (PEM), with `tls`. */
  get certificateFile(): string {
    return join(this.dir, 'conf', 'server.crt');
  }

  /**
   * Writes the config and starts nginx. With `tls`, a self-signed certificate for 127.0.0.1
   * is made; with `basicAuth`, PUT and DELETE need that user and password.
   */
  static async start(options: { full?: boolean; tls?: boolean; basicAuth?: { user: string; password: string } } = {}): Promise<NginxWebDav> {
    const dir = mkdtempSync(join(tmpdir(), 'dist-nginx-'));
    for (const sub of ['www', 'logs', 'tmp', 'conf']) mkdirSync(join(dir, sub), { recursive: true });
    const server = new NginxWebDav(dir, await freePort(), options.tls ?? false);
    if (options.tls) await makeCertificate(join(dir, 'conf'));
    if (options.basicAuth) {
      const { stdout } = await run('openssl', ['passwd', '-apr1', options.basicAuth.password]);
      writeFileSync(join(dir, 'conf', 'htpasswd'), `${options.basicAuth.user}:${stdout.trim()}\n`);
    }
    server.auth = Boolean(options.basicAuth);
    server.writeConfig(options.full ?? false);
    await server.up();
    return server;
  }

  /** Rewrites the config: with `full`, every PUT answers 507 (as nginx does when its disk is full). */
  writeConfig(full: boolean): void {
    const user = process.getuid?.() === 0 ? 'user root;\n' : '';
    writeFileSync(
      join(this.dir, 'conf', 'nginx.conf'),
      `${user}daemon off;
worker_processes 1;
pid ${join(this.dir, 'nginx.pid')};
error_log ${join(this.dir, 'logs', 'error.log')} warn;
events { worker_connections 512; }
http {
  access_log ${this.accessLog} combined;
  client_body_temp_path ${join(this.dir, 'tmp', 'body')};
  proxy_temp_path ${join(this.dir, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(this.dir, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(this.dir, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(this.dir, 'tmp', 'scgi')};
  client_max_body_size 0;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:${this.port}${this.tls ? ' ssl' : ''};
    ${this.tls ? `ssl_certificate ${join(this.dir, 'conf', 'server.crt')}; ssl_certificate_key ${join(this.dir, 'conf', 'server.key')};` : ''}
    root ${this.root};
    location /full/ { limit_except GET HEAD { deny all; } return 507; }
    location / {
      ${full ? 'if ($request_method = PUT) { return 507; }' : ''}
      ${this.auth ? `limit_except GET HEAD { auth_basic "results"; auth_basic_user_file ${join(this.dir, 'conf', 'htpasswd')}; }` : ''}
      dav_methods PUT DELETE MKCOL;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
`,
    );
  }

  /** Starts nginx and waits until it accepts connections. */
  async up(): Promise<void> {
    const child = spawn('nginx', ['-p', this.dir, '-c', join(this.dir, 'conf', 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    this.process = child;
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      try {
        await run('curl', ['-sk', '-o', '/dev/null', this.url]);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    throw new Error(`nginx did not start: ${stderr}`);
  }

  /** Stops nginx (the port is refused until `up()`). */
  async down(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGQUIT');
    await exited;
    this.process = undefined;
  }

  /** Re-reads the config without stopping (SIGHUP). */
  async reload(): Promise<void> {
    const pid = Number(readFileSync(join(this.dir, 'nginx.pid'), 'utf8'));
    process.kill(pid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
  }

  /** Asks nginx to reopen its logs (after a rotation, as logrotate does with USR1). */
  async reopenLogs(): Promise<void> {
    const pid = Number(readFileSync(join(this.dir, 'nginx.pid'), 'utf8'));
    process.kill(pid, 'SIGUSR1');
    for (let i = 0; i < 100 && !existsSync(this.accessLog); i++) await new Promise((r) => setTimeout(r, 20));
    // The master makes the new file before its worker has reopened it: until a request shows
    // up in the new file, requests may still land in the renamed one.
    for (let i = 0; i < 100; i++) {
      const probe = `reopen-probe-${process.pid}-${Date.now()}-${i}`;
      await fetch(`${this.url}${probe}`).then((r) => r.arrayBuffer()).catch(() => undefined);
      if (existsSync(this.accessLog) && readFileSync(this.accessLog, 'utf8').includes(probe)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('nginx did not reopen its access log');
  }

  /** Stops nginx and removes its folder. */
  async close(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether nginx with the dav module is installed. */
export async function nginxAvailable(): Promise<boolean> {
  try {
    const { stderr } = await run('nginx', ['-V']);
    return stderr.includes('http_dav_module');
  } catch {
    return false;
  }
}

/** A self-signed certificate and key for 127.0.0.1 in `dir` (server.crt, server.key). */
export async function makeCertificate(dir: string, name = 'server'): Promise<void> {
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)]);
}
