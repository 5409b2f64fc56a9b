// HTTPS WebDAV with the server's certificate pinned, and credentials from files: delivery
// works with the right certificate and password; another certificate or a wrong password
// fails with a precise reason that never contains the password.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { runCli } from '../../helpers/run-cli.js';
import { NginxWebDav, makeCertificate, nginxAvailable } from './nginx-webdav.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { makePdf } from './test-pdf.js';

const available = await nginxAvailable();
const PASSWORD = 's3cret-Pa55word';

for (const kind of databaseKinds()) {
  describe(`WebDAV over HTTPS with a pinned certificate (${kind})`, { skip: !available && 'nginx with the dav module is not installed' }, () => {
    let nginx: NginxWebDav;
    let d: DistributionHost;

    before(async () => {
      nginx = await NginxWebDav.start({ tls: true, basicAuth: { user: 'lab', password: PASSWORD } });
      // Another server's certificate: valid, but not the one this server presents.
      await makeCertificate(join(nginx.dir, 'conf'), 'other');
      d = await startDistributionHost(kind, {
        rules: ({ dir }) => {
          const secrets = join(dir, 'secrets');
          mkdirSync(secrets, { recursive: true });
          writeFileSync(join(secrets, 'user'), 'lab\n');
          writeFileSync(join(secrets, 'password'), `${PASSWORD}\n`);
          writeFileSync(join(secrets, 'wrong'), 'not-the-password\n');
          writeFileSync(join(secrets, 'other.crt'), readFileSync(join(nginx.dir, 'conf', 'other.crt')));
          return {
            destinations: {
              pinned: { kind: 'webdav', url: `${nginx.url}in/`, cert_file: nginx.certificateFile, username_file: 'secrets/user', password_file: 'secrets/password' },
              impostor: { kind: 'webdav', url: `${nginx.url}in/`, cert_file: 'secrets/other.crt', username_file: 'secrets/user', password_file: 'secrets/password' },
              badpass: { kind: 'webdav', url: `${nginx.url}in/`, cert_file: nginx.certificateFile, username_file: 'secrets/user', password_file: 'secrets/wrong' },
            },
            rules: [{ label: 'to', pattern: '^(\\w+?)_', capture: 1 }],
          };
        },
        settings: { max_attempts: 1 },
      });
      const csv = join(d.dir, 'folders.csv');
      writeFileSync(csv, 'label,tag,folder,base\nto,good,good,pinned\nto,fake,fake,impostor\nto,wrong,wrong,badpass\n');
      assert.equal((await runCli(['--config', d.t.configFile, 'distribution', 'folders', 'load', csv])).status, 0);
      await d.t.host.startPlugins();
      await d.startWorker();
    });
    after(async () => {
      await d?.close();
      await nginx?.close();
    });

    it('delivers to the server whose certificate is pinned, with the credentials from files', async () => {
      writeFileSync(join(d.drop, 'good_1.pdf'), makePdf(['good 1']));
      const sent = await d.waitForState('good_1.pdf', 'archived');
      assert.equal(sent.remoteLocation, `${nginx.url}in/good/good_1.pdf`);
      assert.ok(existsSync(join(nginx.root, 'in', 'good', 'good_1.pdf')));
    });

    it('refuses a server whose certificate is not the pinned one, and a wrong password, without revealing it', async () => {
      writeFileSync(join(d.drop, 'fake_1.pdf'), makePdf(['fake 1']));
      writeFileSync(join(d.drop, 'wrong_1.pdf'), makePdf(['wrong 1']));
      const fake = await d.waitForState('fake_1.pdf', 'failed');
      assert.match(fake.reason!, /destination "impostor" \(https:\/\/127\.0\.0\.1:\d+\): PUT failed: .*(certificate|pinned)/i);
      const wrong = await d.waitForState('wrong_1.pdf', 'failed');
      assert.match(wrong.reason!, /PUT \/in\/wrong\/wrong_1\.pdf answered 401 \(not allowed: check the destination's credentials\)/);
      const trail = JSON.stringify(await d.store.events({})) + JSON.stringify(d.t.logs);
      assert.doesNotMatch(trail, new RegExp(PASSWORD));
      assert.doesNotMatch(trail, new RegExp(Buffer.from(`lab:${PASSWORD}`).toString('base64')));
      assert.doesNotMatch(readFileSync(nginx.accessLog, 'utf8'), new RegExp(PASSWORD));
    });
  });
}

