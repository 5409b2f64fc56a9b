// Benchmark: does a flood of failed HTTP Basic sign-ins slow down everyone else? A
// `platform serve` process (depot-fs, SQLite or PostgreSQL) serves a 20 MiB download and an
// anonymous `status_show` while this process sends failed sign-ins from many connections at
// once. Four scenarios, interleaved round by round: quiet (the baseline), a flood of plain
// anonymous status_show requests at the same concurrency (what any busy client costs, so the
// sign-in floods can be compared with it), a flood of failed sign-ins from one
// address (the per-address limit answers 429 before hashing), and a flood from a new address
// and a new name on every request (X-Forwarded-For with trust_proxy: no limit applies, only
// the hashing pool's own threads and bounded queue protect the server). Figures are medians of
// the rounds; ratios are against the quiet scenario of the same rounds.
//
// Usage: node dist/scripts/bench/login-flood.js [--runs 3] [--flood 200] [--rate 200] [--samples 5]
//   [--database sqlite|postgres] [--pg URL] [--size-mib 20]
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { PlatformHost } from '../../core/host/platform-host.js';
import { ApiTokenServiceId, OrganizationServiceId, ResourceIntakeId, UserServiceId } from '../../core/services/service-ids.js';
import { createInstallation, defaultPgUrl, describeMachine, flags, median, platformBin, startServer } from './bench-support.js';

const usage = `usage: node dist/scripts/bench/login-flood.js [options]
  --runs R          rounds; figures are the median (default 3)
  --flood N         concurrent connections sending failed sign-ins (default 200)
  --rate R          flood requests per second in all (default 200, as a botnet paces itself; 0: as fast as the connections go)
  --samples S       downloads and status_show requests timed per scenario and round (default 5)
  --size-mib M      size of the downloaded file (default 20)
  --database KIND   sqlite or postgres (default sqlite)
  --pg URL          PostgreSQL server (default $PLATFORM_BENCH_PG_URL or ${defaultPgUrl})`;

const options = flags({ runs: 3, flood: 200, rate: 200, samples: 5, sizeMib: 20, database: 'sqlite', pg: process.env.PLATFORM_BENCH_PG_URL ?? defaultPgUrl }, usage);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
log(`machine: ${describeMachine()}`);

type ScenarioId = 'quiet' | 'flood-anonymous' | 'flood-one-address' | 'flood-many-addresses';
const SCENARIOS: ScenarioId[] = ['quiet', 'flood-anonymous', 'flood-one-address', 'flood-many-addresses'];

const kind = options.database === 'postgres' ? 'postgres' : 'sqlite';
const install = await createInstallation(kind, { pgUrl: options.pg, plugins: ['depot-fs'], extraConfig: '[http]\ntrust_proxy = true\n' });
let downloadPath = '';
try {
  const platform = await PlatformHost.start({ configFile: install.configFile, env: {}, logLevel: 'warn' });
  try {
    const users = platform.services.get(UserServiceId);
    const orgs = platform.services.get(OrganizationServiceId);
    const editor = await users.create({ name: 'editor', email: 'e@example.org' });
    const org = await orgs.create({ name: 'lab' });
    await orgs.setMember(org.id, editor.id, 'editor');
    const token = (await platform.services.get(ApiTokenServiceId).create(editor, 'bench')).token;
    const app = platform.app();
    const post = (action: string, body: object) => app.request(`/api/3/action/${action}`, { method: 'POST', headers: { authorization: token, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await post('package_create', { name: 'big', owner_org: 'lab' });
    const resource = (await (await post('resource_create', { package_id: 'big', name: 'big.bin' })).json()) as { result: { id: string } };
    const bytes = randomBytes(options.sizeMib * 1024 * 1024);
    await platform.services.get(ResourceIntakeId).storeStream(resource.result.id, Readable.from([bytes]), { size: bytes.length }, { actor: { kind: 'user', user: { id: editor.id, name: editor.name, sysadmin: false } }, protocol: 'bench' });
    downloadPath = `/dataset/big/resource/${resource.result.id}/download/big.bin`;
  } finally {
    await platform.stop();
  }

  const server = await startServer([platformBin, '--config', install.configFile, 'serve']);
  const measureAgent = new Agent({ connections: 4 });
  const floodAgent = new Agent({ connections: options.flood });
  const timed = async (path: string): Promise<number> => {
    const start = performance.now();
    const answer = await request(`${server.url}${path}`, { dispatcher: measureAgent });
    await answer.body.dump({ limit: Number.MAX_SAFE_INTEGER });
    if (answer.statusCode !== 200) throw new Error(`${path} answered ${answer.statusCode}`);
    return performance.now() - start;
  };

  /** Sends failed sign-ins on `connections` loops until stopped; counts answers by status. */
  const flood = (scenario: ScenarioId) => {
    let running = true;
    const statuses = new Map<number, number>();
    let n = 0;
    const loop = async (): Promise<void> => {
      while (running) {
        const i = n++;
        const due = performance.now() + (options.rate > 0 ? (options.flood / options.rate) * 1000 : 0);
        const many = scenario === 'flood-many-addresses';
        const name = many ? `made-up-${i}` : 'made-up';
        const headers: Record<string, string> = scenario === 'flood-anonymous' ? {} : { authorization: `Basic ${Buffer.from(`${name}:guess-${i}`).toString('base64')}` };
        if (many) headers['x-forwarded-for'] = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
        else headers['x-forwarded-for'] = '192.0.2.1';
        try {
          const answer = await request(`${server.url}/api/3/action/status_show`, { headers, dispatcher: floodAgent });
          await answer.body.dump();
          statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
        } catch {
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
        }
        const wait = due - performance.now();
        if (wait > 0 && running) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    };
    const loops = Array.from({ length: options.flood }, loop);
    return {
      statuses,
      stop: async () => {
        running = false;
        await Promise.all(loops);
      },
    };
  };

  const results = new Map<ScenarioId, { download: number[]; status: number[]; floodStatuses: Map<number, number> }>();
  for (const id of SCENARIOS) results.set(id, { download: [], status: [], floodStatuses: new Map() });
  for (let round = 1; round <= options.runs; round++) {
    for (const id of SCENARIOS) {
      const r = results.get(id)!;
      const f = id === 'quiet' ? undefined : flood(id);
      if (f) await new Promise((resolve) => setTimeout(resolve, 1000)); // let the flood fill the queues
      for (let s = 0; s < options.samples; s++) {
        r.download.push(await timed(downloadPath));
        r.status.push(await timed('/api/3/action/status_show'));
      }
      await f?.stop();
      for (const [status, count] of f?.statuses ?? []) r.floodStatuses.set(status, (r.floodStatuses.get(status) ?? 0) + count);
      log(`round ${round} ${id}: download ${median(r.download).toFixed(0)} ms, status_show ${median(r.status).toFixed(1)} ms`);
      // The next scenario starts with fresh per-address allowances only after the window;
      // the one-address flood is refused either way, which is what it measures.
    }
  }
  await server.stop();
  await measureAgent.close();
  await floodAgent.close();

  const quiet = results.get('quiet')!;
  const base = { download: median(quiet.download), status: median(quiet.status) };
  process.stdout.write(`\n${describeMachine()} (at the end)\n${kind}, ${options.flood} flooding connections at ${options.rate || 'unlimited'} requests/s in all, ${options.sizeMib} MiB download, median of ${options.runs} rounds x ${options.samples} samples\n\n`);
  process.stdout.write('| scenario | download ms | vs quiet | status_show ms | vs quiet | flood answers |\n| --- | --- | --- | --- | --- | --- |\n');
  for (const id of SCENARIOS) {
    const r = results.get(id)!;
    const d = median(r.download);
    const st = median(r.status);
    const answers = [...r.floodStatuses].sort(([a], [b]) => a - b).map(([status, count]) => `${count} × ${status || 'error'}`).join(', ') || '-';
    process.stdout.write(`| ${id} | ${d.toFixed(0)} | ${(d / base.download).toFixed(2)} | ${st.toFixed(1)} | ${(st / base.status).toFixed(2)} | ${answers} |\n`);
  }
} finally {
  await install.dispose();
}
