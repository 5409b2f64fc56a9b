// inspect checks nginx only where the configuration says the site is served through it: a
// development install (site_url on 127.0.0.1, nginx merely present on the machine) gets no
// nginx problem, while `[inspect] behind_nginx` (or trust_proxy, as `platform init` writes
// for production) brings the checks back.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { webFrontCheck } from '../../../core/inspect/checks/web-front-check.js';
import type { InspectFinding } from '../../../core/plugins/hooks/inspect-checks.js';

async function webFindings(t: TestHost): Promise<InspectFinding[]> {
  return webFrontCheck.run({ services: t.host.services, config: t.host.config, deep: false, progress: () => undefined }) as Promise<InspectFinding[]>;
}

describe('inspect: nginx only where production is behind it', () => {
  const hosts: TestHost[] = [];
  after(async () => {
    for (const t of hosts) await t.close();
  });

  it('a development install reports no nginx problem, and says why nginx was skipped', async () => {
    const t = await startTestHost('sqlite', { env: { PLATFORM__PLATFORM__SITE_URL: 'http://127.0.0.1:5000' } });
    hosts.push(t);
    const findings = await webFindings(t);
    assert.deepEqual(findings.filter((f) => f.severity !== 'ok'), [], JSON.stringify(findings));
    assert.match(findings.map((f) => f.title).join('\n'), /not configured to be served through nginx.*skipped/);
  });

  for (const [label, extraConfig] of [['[inspect] behind_nginx', 'behind_nginx = true'], ['[http] trust_proxy', '']] as const) {
    it(`${label} brings the nginx checks back`, async () => {
      const t = await startTestHost('sqlite', {
        extraConfig: label.startsWith('[http]') ? '[http]\ntrust_proxy = true\n' : `[inspect]\n${extraConfig}\n`,
      });
      hosts.push(t);
      const titles = (await webFindings(t)).map((f) => f.title).join('\n');
      assert.doesNotMatch(titles, /not configured to be served through nginx/);
      assert.match(titles, /nginx/);
    });
  }
});
