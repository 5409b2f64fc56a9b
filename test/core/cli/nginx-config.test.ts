// platform nginx-config: the nginx configuration generated from platform.ini. The shipped
// nginx/platform.conf is exactly what it generates for the documented example, a two-node
// configuration passes `nginx -t`, and inspect names the first line where an installed file
// and the settings drift apart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../helpers/run-cli.js';
import { nginxConfigFindings, nginxDriftFindings } from '../../../core/inspect/checks/web-front-check.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const tls = join(root, 'test', 'fixtures', 'tls');
const hasNginx = spawnSync('nginx', ['-v']).status === 0;

async function generate(ini: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nginx-config-'));
  try {
    writeFileSync(join(dir, 'platform.ini'), ini);
    const run = await runCli(['--config', join(dir, 'platform.ini'), 'nginx-config']);
    assert.equal(run.status, 0, run.stderr);
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('platform nginx-config', () => {
  it('generates the shipped nginx/platform.conf from the documented example settings', async () => {
    const generated = await generate('[platform]\nsite_url = https://data.example.org\n[http]\nx_accel_root = /var/lib/platform/data/depot\n');
    assert.equal(generated, readFileSync(join(root, 'nginx', 'platform.conf'), 'utf8'));
  });

  it('fills in upstream nodes, server name, TLS files and the upload limit; nginx -t accepts it', async () => {
    const generated = await generate(
      ['[platform]', 'site_url = https://data.example.org', '[upload]', 'max_size = 5368709120', '[nginx]', 'upstreams = 10.0.0.11:5000 10.0.0.12:5000', 'server_name = platform.test', `tls_certificate = ${join(tls, 'server.cert')}`, `tls_certificate_key = ${join(tls, 'server.key')}`].join('\n'),
    );
    assert.match(generated, /upstream platform \{\n    server 10\.0\.0\.11:5000;\n    server 10\.0\.0\.12:5000;\n/);
    assert.match(generated, /server_name platform\.test;/);
    assert.match(generated, /client_max_body_size 5368709120;\n\s+proxy_request_buffering off;/);
    assert.match(generated, /proxy_max_temp_file_size 0;/);
    assert.deepEqual(nginxConfigFindings('platform.conf', generated, 5368709120).map((f) => f.severity), ['ok']);
    if (!hasNginx) return;
    const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
    try {
      writeFileSync(join(dir, 'platform.conf'), generated);
      writeFileSync(join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  include ${dir}/platform.conf;\n}\n`);
      const result = spawnSync('nginx', ['-t', '-c', join(dir, 'nginx.conf'), '-p', dir], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses settings that would break the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nginx-config-'));
    try {
      writeFileSync(join(dir, 'platform.ini'), '[nginx]\nupstreams = 127.0.0.1:5000; include /etc/passwd\n');
      const run = await runCli(['--config', join(dir, 'platform.ini'), 'nginx-config']);
      assert.notEqual(run.status, 0);
      assert.match(run.stderr, /upstreams/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('inspect names the first line where the installed file and the settings differ', async () => {
    const generated = await generate('[nginx]\nupstreams = 127.0.0.1:5000 127.0.0.1:5001\n');
    assert.equal(nginxDriftFindings('platform.conf', generated, generated)[0]!.severity, 'ok');
    const installed = generated.replace('    server 127.0.0.1:5001;\n', '');
    const [finding] = nginxDriftFindings('platform.conf', installed, generated);
    assert.equal(finding!.severity, 'problem');
    assert.match(finding!.title, /differs from what platform nginx-config generates/);
    assert.deepEqual(finding!.details, ['installed:     keepalive 32;', 'generated:     server 127.0.0.1:5001;']);
  });
});
