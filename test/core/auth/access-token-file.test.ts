// Access-token files: both encryption schemes, interoperability with Debian's zip and
// unzip, clear errors for every way a file can be wrong, and the CLI end to end.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAccessTokenFile, summariseAccessToken, writeAccessTokenFile } from '../../../core/auth/access-token-file.js';
import { ValidationError } from '../../../core/errors.js';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { UserServiceId } from '../../../core/services/service-ids.js';

const fixtures = fileURLToPath(new URL('../../../../test/fixtures/tls/', import.meta.url));
const certPem = readFileSync(join(fixtures, 'server.cert'), 'utf8');
const hasZip = (() => {
  try {
    execFileSync('zip', ['-v'], { stdio: 'ignore' });
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof ValidationError && pattern.test(error.message));
}

describe('access-token files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'access-token-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const encryption of ['aes-256', 'zipcrypto'] as const) {
    it(`round-trips with ${encryption}`, async () => {
      const data = await writeAccessTokenFile({ apiKey: 'plat_key_123', certificatePem: certPem, password: 'correct horse', encryption });
      const contents = await readAccessTokenFile(data, 'correct horse');
      assert.equal(contents.apiKey, 'plat_key_123');
      assert.equal(contents.certificatePem, certPem);
      assert.equal(contents.encryption, encryption);
      assert.equal(Buffer.from(data).includes(Buffer.from('plat_key_123')), false, 'the key must not appear in clear');
    });
  }

  it('writes AES-256 as WinZip AE-x (compression method 99) by default', async () => {
    const data = Buffer.from(await writeAccessTokenFile({ apiKey: 'k1234567', certificatePem: certPem, password: 'password1', encryption: 'aes-256' }));
    assert.equal(data.readUInt32LE(0), 0x04034b50);
    assert.equal(data.readUInt16LE(8), 99);
  });

  it('reads a token made by Debian zip -e (ZipCrypto)', { skip: !hasZip && 'zip/unzip not installed' }, async () => {
    writeFileSync(join(dir, 'api_key.txt'), 'plat_from_zip\n');
    writeFileSync(join(dir, 'server.cert'), certPem);
    execFileSync('zip', ['-q', '-j', '-P', 'zip-password', join(dir, 'made-by-zip.dcor-access'), join(dir, 'api_key.txt'), join(dir, 'server.cert')]);
    const contents = await readAccessTokenFile(readFileSync(join(dir, 'made-by-zip.dcor-access')), 'zip-password');
    assert.equal(contents.apiKey, 'plat_from_zip');
    assert.equal(contents.encryption, 'zipcrypto');
  });

  it('writes ZipCrypto that Debian unzip opens', { skip: !hasZip && 'zip/unzip not installed' }, async () => {
    const file = join(dir, 'for-unzip.dcor-access');
    writeFileSync(file, await writeAccessTokenFile({ apiKey: 'plat_for_unzip', certificatePem: certPem, password: 'unzip-password', encryption: 'zipcrypto' }));
    assert.equal(execFileSync('unzip', ['-p', '-P', 'unzip-password', file, 'api_key.txt']).toString(), 'plat_for_unzip');
  });

  it('says so for a wrong password, a corrupt file, a missing member, an unencrypted file and a bad certificate', async () => {
    const good = await writeAccessTokenFile({ apiKey: 'plat_x', certificatePem: certPem, password: 'right-password', encryption: 'aes-256' });
    await rejects(readAccessTokenFile(good, 'wrong-password'), /wrong password/);
    await rejects(readAccessTokenFile(good.slice(0, good.length - 40), 'right-password'), /not a readable zip|damaged/);
    await rejects(readAccessTokenFile(new TextEncoder().encode('not a zip at all'), 'x'), /not a readable zip/);
    if (hasZip) {
      writeFileSync(join(dir, 'api_key.txt'), 'plat_only_key');
      execFileSync('zip', ['-q', '-j', '-P', 'pw-12345', join(dir, 'no-cert.zip'), join(dir, 'api_key.txt')]);
      await rejects(readAccessTokenFile(readFileSync(join(dir, 'no-cert.zip')), 'pw-12345'), /has no server\.cert/);
      writeFileSync(join(dir, 'server.cert'), 'not a certificate');
      execFileSync('zip', ['-q', '-j', '-P', 'pw-12345', join(dir, 'bad-cert.zip'), join(dir, 'api_key.txt'), join(dir, 'server.cert')]);
      await rejects(readAccessTokenFile(readFileSync(join(dir, 'bad-cert.zip')), 'pw-12345'), /server\.cert .* is not a PEM certificate/);
      execFileSync('zip', ['-q', '-j', join(dir, 'plain.zip'), join(dir, 'api_key.txt'), join(dir, 'server.cert')]);
      await rejects(readAccessTokenFile(readFileSync(join(dir, 'plain.zip')), 'pw-12345'), /not encrypted/);
    }
  });

  it('summarises host names, validity, the key start and warns on ZipCrypto', async () => {
    const contents = await readAccessTokenFile(await writeAccessTokenFile({ apiKey: 'plat_abcdefghijklmnop', certificatePem: certPem, password: 'password1', encryption: 'zipcrypto' }), 'password1');
    const summary = summariseAccessToken(contents);
    assert.equal(summary.commonName, 'platform.test');
    assert.deepEqual(summary.altNames, ['platform.test', 'localhost', '127.0.0.1']);
    assert.equal(summary.keyStart, 'plat_abcde...');
    assert.ok(summary.validTo > new Date());
    assert.match(summary.warnings.join(), /known-plaintext/);
  });
});

for (const kind of databaseKinds()) {
  describe(`platform access-token create and inspect (${kind})`, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(kind);
      await t.host.services.get(UserServiceId).create({ name: 'alice', email: 'alice@example.org' });
    });
    after(async () => t.close());

    it('creates a token file whose key works against the API, with a generated password printed alone', async () => {
      const out = join(t.db.dir, 'alice.dcor-access');
      const run = await runCli(['--config', t.configFile, 'access-token', 'create', '--user', 'alice', '--cert', join(fixtures, 'server.cert'), '--out', out]);
      assert.equal(run.status, 0, run.stderr);
      const password = run.stdout.trim();
      assert.equal(run.stdout.split('\n').filter(Boolean).length, 1);
      assert.ok(password.length >= 20);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const contents = await readAccessTokenFile(readFileSync(out), password);
      assert.equal(contents.encryption, 'aes-256');
      const { status, body } = await t.call('api_token_list', { user: 'alice' }, { token: contents.apiKey, method: 'GET' });
      assert.equal(status, 200);
      assert.equal((body.result as Array<{ name: string }>)[0]!.name, 'alice');

      const passwordFile = join(t.db.dir, 'pw');
      writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
      const inspect = await runCli(['access-token', 'inspect', out, '--password-file', passwordFile]);
      assert.equal(inspect.status, 0, inspect.stderr);
      assert.match(inspect.stdout, /host: platform\.test/);
      assert.match(inspect.stdout, /encryption: AES-256/);
      assert.equal(inspect.stdout.includes(contents.apiKey), false, 'inspect must not print the whole key');
    });

    it('writes ZipCrypto with --compat zipcrypto and warns', async () => {
      const out = join(t.db.dir, 'old-client.dcor-access');
      const passwordFile = join(t.db.dir, 'pw2');
      writeFileSync(passwordFile, 'an-agreed-password\n', { mode: 0o600 });
      const run = await runCli(['--config', t.configFile, 'access-token', 'create', '--user', 'alice', '--cert', join(fixtures, 'server.cert'), '--out', out, '--password-file', passwordFile, '--compat', 'zipcrypto']);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /known-plaintext/);
      assert.equal((await readAccessTokenFile(readFileSync(out), 'an-agreed-password')).encryption, 'zipcrypto');
    });

    it('--force replaces an existing world-readable file with a new one of mode 0600, and refuses a symbolic link at --out', async () => {
      const out = join(t.db.dir, 'replaced.dcor-access');
      writeFileSync(out, 'old contents', { mode: 0o644 });
      chmodSync(out, 0o644);
      const refused = await runCli(['--config', t.configFile, 'access-token', 'create', '--user', 'alice', '--cert', join(fixtures, 'server.cert'), '--out', out]);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /already exists; add --force/);
      const run = await runCli(['--config', t.configFile, 'access-token', 'create', '--user', 'alice', '--cert', join(fixtures, 'server.cert'), '--out', out, '--force']);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(statSync(out).mode & 0o777, 0o600, 'the old file kept its mode 0644');
      assert.equal((await readAccessTokenFile(readFileSync(out), run.stdout.trim())).encryption, 'aes-256');
      assert.deepEqual(readdirSync(t.db.dir).filter((name) => name.endsWith('.tmp')), [], 'no temporary file stays');

      const victim = join(t.db.dir, 'victim.txt');
      writeFileSync(victim, 'do not touch', { mode: 0o644 });
      const link = join(t.db.dir, 'link.dcor-access');
      symlinkSync(victim, link);
      const before = (await runCli(['--config', t.configFile, 'token', 'list', '--user', 'alice', '--json'])).stdout;
      const linked = await runCli(['--config', t.configFile, 'access-token', 'create', '--user', 'alice', '--cert', join(fixtures, 'server.cert'), '--out', link, '--force']);
      assert.equal(linked.status, 2);
      assert.match(linked.stderr, /is a symbolic link/);
      assert.equal(readFileSync(victim, 'utf8'), 'do not touch');
      assert.ok(lstatSync(link).isSymbolicLink());
      assert.equal((await runCli(['--config', t.configFile, 'token', 'list', '--user', 'alice', '--json'])).stdout, before, 'no token was created');
    });

    it('refuses a certificate that does not parse, and creates no token', async () => {
      const bad = join(t.db.dir, 'bad.cert');
      writeFileSync(bad, 'garbage');
      const before = (await runCli(['--config', t.configFile, 'token', 'list', '--user', 'alice', '--json'])).stdout;
      const run = await runCli(['--config', t.configFile, 'access-token', 'create', '--user', 'alice', '--cert', bad, '--out', join(t.db.dir, 'x.dcor-access')]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /--cert .* is not a PEM certificate/);
      assert.equal((await runCli(['--config', t.configFile, 'token', 'list', '--user', 'alice', '--json'])).stdout, before);
    });
  });
}
