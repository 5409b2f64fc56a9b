// The web front checks: the shipped nginx configuration streams uploads of any size, a
// broken one is named precisely, `nginx -t` accepts the shipped file when nginx is
// installed, and TLS certificates are checked for host name and expiry.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { certificateFindings, nginxConfigFindings, nginxSize } from '../../../core/inspect/checks/web-front-check.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const shipped = readFileSync(join(root, 'nginx', 'platform.conf'), 'utf8');
const tls = join(root, 'test', 'fixtures', 'tls');
const hasNginx = spawnSync('nginx', ['-v']).status === 0;
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('web front checks', () => {
  it('reads nginx sizes', () => {
    assert.deepEqual(['0', '512', '10k', '2m', '1g'].map(nginxSize), [0, 512, 10240, 2 * 1024 ** 2, 1024 ** 3]);
  });

  it('accepts the shipped configuration for 100 GiB uploads', () => {
    const findings = nginxConfigFindings('platform.conf', shipped, 100 * 1024 ** 3);
    assert.deepEqual(findings.map((f) => f.severity), ['ok']);
  });

  it('names a small upload limit and request buffering', () => {
    const broken = shipped.replace(/client_max_body_size \d+;(\s+proxy_request_buffering)/, 'client_max_body_size 2g;$1').replace('proxy_request_buffering off;', '');
    const titles = nginxConfigFindings('platform.conf', broken, 100 * 1024 ** 3).map((f) => f.title);
    assert.ok(titles.some((t) => /allows uploads of 2g under \/upload\/, less than \[upload\] max_size/.test(t)), titles.join('\n'));
    assert.ok(titles.some((t) => /buffers upload requests/.test(t)));
    assert.match(nginxConfigFindings('x.conf', 'server { location / { } }', 1)[0]!.title, /no "location \/upload\/" block/);
  });

  it('passes nginx -t with the shipped configuration', { skip: !hasNginx && 'nginx is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
    try {
      const site = shipped.replaceAll('/etc/ssl/platform/server.cert', join(tls, 'server.cert')).replaceAll('/etc/ssl/platform/server.key', join(tls, 'server.key'));
      writeFileSync(join(dir, 'platform.conf'), site);
      writeFileSync(join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  include ${dir}/platform.conf;\n}\n`);
      const result = spawnSync('nginx', ['-t', '-c', join(dir, 'nginx.conf'), '-p', dir], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /syntax is ok/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks the certificate\'s host name and expiry', () => {
    const pem = readFileSync(join(tls, 'server.cert'), 'utf8');
    assert.deepEqual(certificateFindings('server.cert', pem, 'platform.test').map((f) => f.severity), ['ok']);
    assert.match(certificateFindings('server.cert', pem, 'data.example.org')[0]!.title, /does not name data\.example\.org/);
    const twentyDaysBefore = new Date(new Date(new X509Certificate(pem).validTo).getTime() - 20 * 86_400_000);
    assert.match(certificateFindings('server.cert', pem, 'platform.test', twentyDaysBefore)[0]!.title, /expires in 20 days/);
    assert.match(certificateFindings('server.cert', pem, '127.0.0.1')[0]!.title, /names 127\.0\.0\.1/);
    assert.match(certificateFindings('bad.cert', 'garbage', 'platform.test')[0]!.title, /does not parse/);
  });

  it('finds a certificate that expires within 30 days', { skip: !hasOpenssl && 'openssl is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cert-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-days', '10', '-subj', '/CN=platform.test', '-addext', 'subjectAltName=DNS:platform.test'], { stdio: 'ignore' });
      const [finding] = certificateFindings('c', readFileSync(join(dir, 'c'), 'utf8'), 'platform.test');
      assert.equal(finding!.severity, 'problem');
      assert.match(finding!.title, /expires in (9|10) days/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
