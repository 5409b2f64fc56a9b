// A throwaway one-node Ceph cluster with the RADOS Gateway, for the suites and benchmarks
// that need a real S3 server: one monitor, one in-memory OSD (memstore), one radosgw, all
// under a temporary directory, with cephx keys, on free ports, without systemd. Stopped by
// the pids the daemons wrote. Run alone it starts a cluster, prints its endpoint and keys as
// JSON and keeps it up until interrupted:
//   node dist/scripts/ceph/rgw-cluster.js
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A running gateway and the S3 user made for it. */
export interface RgwCluster {
  /** `http://127.0.0.1:PORT` (path-style addressing). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** RADOS Gateway's default zonegroup name, the SigV4 region it accepts. */
  region: string;
  /** The temporary directory holding the cluster (config, keyring, logs). */
  dir: string;
  /** Seconds the start took. */
  startSeconds: number;
  /** Stops every daemon by its pid file and removes the directory. */
  stop(): Promise<void>;
}

/** Why a cluster cannot start on this machine, or undefined when the Ceph binaries are there. */
export function cephMissing(): string | undefined {
  for (const bin of ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph-authtool', 'monmaptool', 'ceph']) {
    const found = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
    if (found.status !== 0) return `${bin} is not installed (Debian: apt-get install --no-install-recommends ceph-mon ceph-osd radosgw ceph-common)`;
  }
  return undefined;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function config(dir: string, fsid: string, monPort: number, rgwPort: number, memstoreBytes: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
mon initial members = a
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = ${dir}/keyring
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
mon data = ${dir}/mon.$id
osd data = ${dir}/osd.$id
osd objectstore = memstore
memstore device bytes = ${memstoreBytes}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
ms bind msgr1 = false
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
# Deleted objects' space is reclaimed by the gateway's garbage collector, by default after two
# hours: within seconds here, so an in-memory OSD does not fill up with what tests delete.
rgw gc obj min wait = 1
rgw gc processor period = 5
rgw gc processor max time = 5
`;
}

async function waitFor(what: string, seconds: number, probe: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} did not come up within ${seconds} s`);
}

function stopByPids(dir: string): void {
  const runDir = join(dir, 'run');
  if (!existsSync(runDir)) return;
  for (const file of readdirSync(runDir).filter((f) => f.endsWith('.pid'))) {
    const pid = Number(readFileSync(join(runDir, file), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Starts a one-node cluster and gateway and waits until S3 answers.
 * @param options.memstoreBytes the OSD's in-memory capacity (default 3 GiB; memstore allocates lazily)
 */
export async function startRgwCluster(options: { memstoreBytes?: number; timeoutSeconds?: number } = {}): Promise<RgwCluster> {
  const missing = cephMissing();
  if (missing) throw new Error(missing);
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'platform-rgw-'));
  const timeout = options.timeoutSeconds ?? 150;
  try {
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const fsid = randomUUID();
    for (const sub of ['run', 'log', 'mon.a', 'osd.0', 'rgw']) mkdirSync(join(dir, sub), { recursive: true });
    const conf = join(dir, 'ceph.conf');
    writeFileSync(conf, config(dir, fsid, monPort, rgwPort, options.memstoreBytes ?? 3 * 1024 ** 3));
    const keyring = join(dir, 'keyring');
    const c = ['-c', conf];
    await run('ceph-authtool', ['--create-keyring', keyring, '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
    await run('ceph-authtool', [keyring, '--gen-key', '-n', 'client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *']);
    await run('ceph-authtool', [keyring, '--gen-key', '-n', 'osd.0', '--cap', 'mon', 'allow profile osd', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow profile osd']);
    await run('ceph-authtool', [keyring, '--gen-key', '-n', 'client.rgw', '--cap', 'mon', 'allow rw', '--cap', 'osd', 'allow rwx', '--cap', 'mgr', 'allow rw']);
    // The monitor addressed in the v2 protocol: with a plain address clients wait for ever.
    await run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, join(dir, 'monmap')]);
    await run('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', keyring]);
    await run('ceph-mon', [...c, '-i', 'a']);
    const osdUuid = randomUUID();
    await run('ceph', [...c, '--connect-timeout', String(timeout), 'osd', 'new', osdUuid, '0']);
    await run('ceph-osd', [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid, '--keyring', keyring]);
    await run('ceph-osd', [...c, '-i', '0', '--keyring', keyring]);
    await run('radosgw', [...c, '-n', 'client.rgw', '--keyring', keyring]);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitFor('the RADOS Gateway', timeout, async () => (await fetch(endpoint)).status === 200);
    const accessKey = `PT${randomBytes(9).toString('hex').toUpperCase()}`;
    const secretKey = randomBytes(30).toString('base64url');
    await run('radosgw-admin', [...c, '-n', 'client.admin', 'user', 'create', '--uid', 'platform-test', '--display-name', 'platform test', '--access-key', accessKey, '--secret', secretKey]);
    const startSeconds = (Date.now() - started) / 1000;
    return {
      endpoint, accessKey, secretKey, region: 'default', dir, startSeconds,
      async stop() {
        stopByPids(dir);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    stopByPids(dir);
    const logs = existsSync(join(dir, 'log')) ? readdirSync(join(dir, 'log')).map((f) => `--- ${f}\n${readFileSync(join(dir, 'log', f), 'utf8').split('\n').slice(-15).join('\n')}`).join('\n') : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the Ceph cluster did not start: ${(error as Error).message}\n${logs}`);
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const cluster = await startRgwCluster();
  console.log(JSON.stringify({ endpoint: cluster.endpoint, region: cluster.region, accessKey: cluster.accessKey, secretKey: cluster.secretKey, startSeconds: cluster.startSeconds }));
  const stop = (): void => void cluster.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  setInterval(() => undefined, 1 << 30);
}
