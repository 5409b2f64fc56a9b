// inspect on a real installation: each broken state is reported with a non-zero exit,
// `--repair --yes` fixes it, and a second run is clean. The JSON report validates against
// its schema.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { INSPECT_REPORT_SCHEMA, type InspectReport } from '../../../core/inspect/inspect-report.js';
import { ApiTokenServiceId, DatabaseId, PasswordHasherId, PlatformConfigId, UserServiceId } from '../../../core/services/service-ids.js';
import { nginxConfigOf } from '../../../core/config/nginx-config.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const validateReport = addFormats(new Ajv2020({ allErrors: true, strict: false })).compile(INSPECT_REPORT_SCHEMA);

for (const kind of databaseKinds()) {
  describe(`inspect core checks (${kind})`, () => {
    let t: TestHost;
    let dataDir: string;

    async function inspect(...args: string[]): Promise<{ status: number; report: InspectReport }> {
      const run = await runCli(['--config', t.configFile, 'inspect', '--json', ...args]);
      const report = JSON.parse(run.stdout) as InspectReport;
      assert.ok(validateReport(report), JSON.stringify(validateReport.errors));
      assert.equal(run.status, report.exitCode);
      return { status: run.status, report };
    }

    function problems(report: InspectReport, area: string): string[] {
      return report.checks.filter((c) => c.area === area).flatMap((c) => c.findings.filter((f) => f.severity === 'problem' && f.repair?.status !== 'applied').map((f) => f.title));
    }

    before(async () => {
      t = await startTestHost(kind);
      dataDir = join(t.db.dir, 'data');
      // Where nginx runs, the platform's configuration must be installed: the one generated
      // from this platform.ini (inspect compares the two).
      const nginxConf = join(t.db.dir, 'platform-nginx.conf');
      writeFileSync(nginxConf, nginxConfigOf(t.host.services.get(PlatformConfigId)));
      appendFileSync(t.configFile, `\n[inspect]\nnginx_config = ${nginxConf}\n`);
      chmodSync(t.configFile, 0o600);
      const users = t.host.services.get(UserServiceId);
      await users.create({ name: 'root-admin', email: 'root@example.org', password: 'a-long-password-1', sysadmin: true });
    });
    after(async () => t.close());

    it('is clean on a fresh installation', async () => {
      const { status, report } = await inspect();
      assert.equal(status, 0, JSON.stringify(report.checks.filter((c) => c.status === 'problem'), null, 1));
      assert.deepEqual(report.checks.map((c) => c.area), ['config', 'directories', 'database', 'plugins', 'depot', 'jobs', 'auth', 'web']);
    });

    it('finds a world-readable config and secret file, repairs both', async () => {
      chmodSync(t.configFile, 0o644);
      chmodSync(join(dataDir, 'secrets', 'secret-key'), 0o644);
      const broken = await inspect('--only', 'config');
      assert.equal(broken.status, 1);
      assert.equal(problems(broken.report, 'config').length, 2);
      const repaired = await inspect('--only', 'config', '--repair', '--yes');
      assert.equal(repaired.status, 0);
      assert.equal(repaired.report.summary.repaired, 2);
      assert.equal(statSync(join(dataDir, 'secrets', 'secret-key')).mode & 0o777, 0o600);
      assert.equal((await inspect('--only', 'config')).status, 0);
    });

    it('finds a missing secret file and generates it', async () => {
      rmSync(join(dataDir, 'secrets', 'secret-key'));
      const broken = await inspect('--only', 'config');
      assert.equal(broken.status, 1);
      assert.match(problems(broken.report, 'config')[0] ?? '', /secret file .* is missing/);
      await inspect('--only', 'config', '--repair', '--yes');
      assert.equal(statSync(join(dataDir, 'secrets', 'secret-key')).mode & 0o777, 0o600);
      assert.equal((await inspect('--only', 'config')).status, 0);
    });

    it('reports an invalid configuration with every problem, and exits 1', async () => {
      const original = (await import('node:fs')).readFileSync(t.configFile, 'utf8');
      writeFileSync(t.configFile, `${original}\n[http]\nprot = 80\nport = high\n`);
      try {
        const { status, report } = await inspect('--only', 'config');
        assert.equal(status, 1);
        const finding = report.checks[0]!.findings.find((f) => f.severity === 'problem')!;
        assert.match(finding.title, /configuration is invalid/);
        assert.ok(finding.details!.some((d) => /\[http\] prot: unknown key; did you mean "port"/.test(d)), finding.details!.join('\n'));
        assert.ok(finding.details!.some((d) => /\[http\] port/.test(d)));
      } finally {
        writeFileSync(t.configFile, original);
      }
    });

    it('finds missing and world-writable directories, repairs them', async () => {
      rmSync(join(dataDir, 'logs'), { recursive: true });
      chmodSync(join(dataDir, 'tmp'), 0o777);
      const broken = await inspect('--only', 'directories');
      assert.equal(broken.status, 1);
      assert.equal(problems(broken.report, 'directories').length, 2);
      await inspect('--only', 'directories', '--repair', '--yes');
      assert.equal(statSync(join(dataDir, 'tmp')).mode & 0o002, 0);
      assert.ok(statSync(join(dataDir, 'logs')).isDirectory());
      assert.equal((await inspect('--only', 'directories')).status, 0);
    });

    it('finds expired tokens that are not revoked, revokes them, and audits the repair', async () => {
      const user = await t.host.services.get(UserServiceId).get('root-admin');
      const { record } = await t.host.services.get(ApiTokenServiceId).create(user, 'old laptop', 1);
      const db = t.host.services.get(DatabaseId);
      await db.models.ApiToken.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { id: record.id } });
      const broken = await inspect('--only', 'auth');
      assert.equal(broken.status, 1);
      assert.match(problems(broken.report, 'auth').join(), /past expiry are not revoked/);
      await inspect('--only', 'auth', '--repair', '--yes');
      const row = await db.models.ApiToken.findByPk(record.id);
      assert.ok(row?.get({ plain: true }).revokedAt);
      assert.equal((await inspect('--only', 'auth')).status, 0);
      const events = await db.models.AuditEvent.findAll({ where: { action: 'inspect.repair' } });
      assert.ok(events.length >= 1);
    });

    it('finds a password equal to the user name and the lack of a sysadmin', async () => {
      const users = t.host.services.get(UserServiceId);
      await users.create({ name: 'weakling', email: 'w@example.org', password: 'weakling00' });
      await users.setPassword('weakling', 'weakling00');
      const db = t.host.services.get(DatabaseId);
      await db.models.User.update({ passwordHash: await t.host.services.get(PasswordHasherId).hash('weakling') }, { where: { name: 'weakling' } });
      await users.setSysadmin('root-admin', false);
      const { status, report } = await inspect('--only', 'auth');
      assert.equal(status, 1);
      const found = problems(report, 'auth');
      assert.ok(found.some((p) => /weakling has a password equal to its name/.test(p)), found.join('\n'));
      assert.ok(found.some((p) => /there is no sysadmin/.test(p)));
      await users.setSysadmin('root-admin', true);
      await users.setPassword('weakling', 'a-much-better-one');
      assert.equal((await inspect('--only', 'auth')).status, 0);
    });

    it('prints a readable report with marks and a summary line', async () => {
      const run = await runCli(['--config', t.configFile, 'inspect']);
      assert.equal(run.status, 0);
      assert.match(run.stdout, /\[config\]\n {2}ok/);
      assert.match(run.stdout, /check\(s\): .* nothing left wrong/);
    });

    it('reports a configuration that cannot be read as a problem, not a crash', async () => {
      const { status, report } = await (async () => {
        const run = await runCli(['--config', t.db.dir, 'inspect', '--json']);
        return { status: run.status, report: JSON.parse(run.stdout) as InspectReport };
      })();
      assert.equal(status, 1);
      assert.ok(validateReport(report));
      assert.match(report.checks[0]!.findings[0]!.details!.join(), /cannot read configuration file/);
    });
  });
}
