// API tokens and password logins as clients use them: tokens shown once and stored only
// as hashes, sent bare or as Bearer, last use recorded, expiry and revocation effective on
// the very next request, tokens of deleted users dead; HTTP Basic logins with lockout after
// repeated failures (also when the failures arrive at once), cleared by set-password or by
// time; and no secret in any answer, audit event or log line.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { auditEvents, basicAuth, expireToken } from '../../helpers/api-fixtures.js';
import { ApiTokenServiceId, DatabaseId, UserServiceId } from '../../../core/services/service-ids.js';

interface TokenDict {
  id: string;
  token?: string;
  name: string;
  prefix: string;
  user_id: string;
  created_at: string;
  expires_at: string | null;
  last_access: string | null;
  revoked_at: string | null;
}

const CAROL = 'carols-password';
const DAVE = 'daves-password';

for (const kind of databaseKinds()) {
  describe(`tokens and logins (${kind})`, () => {
    let t: TestHost;
    /** Every secret handed out in this suite, to look for afterwards. */
    const secrets: string[] = [CAROL, DAVE];
    const answers: string[] = [];

    const call = async (action: string, input: Record<string, unknown>, auth: string, method: 'GET' | 'POST' = 'POST') => {
      const answer = await t.call(action, input, { token: auth, method });
      answers.push(JSON.stringify(answer.body));
      return answer;
    };
    const newToken = async (name: string, extra: Record<string, unknown> = {}): Promise<TokenDict & { token: string }> => {
      const { status, body } = await call('api_token_create', { user: 'carol', name, ...extra }, basicAuth('carol', CAROL));
      assert.equal(status, 200, JSON.stringify(body));
      const created = body.result as TokenDict & { token: string };
      secrets.push(created.token);
      return created;
    };
    const whoAmI = (auth: string) => call('user_show', { id: 'carol' }, auth, 'GET');

    before(async () => {
      // The per-address and per-name limits are tested in login-limits.test.ts; here they would
      // stop the lockout tests first (every request comes from the same address).
      t = await startTestHost(kind, { extraConfig: '[auth]\nmax_failed_logins = 3\nlockout_minutes = 10\nlogin_failures_per_address = 0\nlogin_failures_per_name = 0\n' });
      const users = t.host.services.get(UserServiceId);
      await users.create({ name: 'carol', email: 'c@example.org', password: CAROL });
      await users.create({ name: 'dave', email: 'd@example.org', password: DAVE });
    });
    after(async () => t.close());

    it('shows a token once, stores only its hash, and lists it without the secret', async () => {
      const created = await newToken('laptop');
      assert.match(created.token, /^plat_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      assert.ok(created.token.startsWith(`plat_${created.prefix}_`), 'the prefix tells tokens apart');
      assert.equal(created.expires_at, null, 'no expiry unless asked');
      assert.equal(created.last_access, null);
      assert.equal(created.revoked_at, null);
      const row = (await t.host.services.get(DatabaseId).models.ApiToken.findOne({ where: { prefix: created.prefix } }))!.get({ plain: true });
      assert.match(row.hash, /^[0-9a-f]{64}$/);
      assert.equal(JSON.stringify(row).includes(created.token.slice(`plat_${created.prefix}_`.length)), false, 'the secret part is stored nowhere');
      const listed = (await call('api_token_list', { user: 'carol' }, created.token, 'GET')).body.result as TokenDict[];
      const mine = listed.find((x) => x.id === created.id)!;
      assert.equal(mine.name, 'laptop');
      assert.equal('token' in mine, false);
      assert.equal(JSON.stringify(listed).includes(created.token), false);
    });

    it('sets an expiry in days when asked', async () => {
      const created = await newToken('short-lived', { expires_days: 30 });
      const days = (Date.parse(created.expires_at!) - Date.parse(created.created_at)) / 86_400_000;
      assert.ok(Math.abs(days - 30) < 0.01, `expires ${days} days after creation`);
      assert.equal((await whoAmI(created.token)).status, 200, 'valid until then');
    });

    it('accepts a token bare or as Bearer, as CKAN clients send it', async () => {
      const { token } = await newToken('forms');
      for (const auth of [token, `Bearer ${token}`, `bearer ${token}`, `  Bearer   ${token}  `]) {
        const { status, body } = await whoAmI(auth);
        assert.equal(status, 200, `${JSON.stringify(auth.replace(token, 'TOKEN'))}: ${JSON.stringify(body)}`);
        assert.equal((body.result as { email?: string }).email, 'c@example.org', 'the token acts as its user');
      }
    });

    it('refuses malformed and tampered credentials with 403, never falling back to anonymous', async () => {
      const { token } = await newToken('tamper');
      const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      const unknownPrefix = `plat_zzzzzzzzzzzz_${token.slice(-43)}`;
      for (const auth of [tampered, unknownPrefix, 'Bearer', 'Bearer not-a-token', `Token ${token}`, 'Basic !!!', basicAuth('', 'x')]) {
        const { status, body } = await call('status_show', {}, auth, 'GET');
        assert.equal(status, 403, auth);
        assert.equal(body.error!.__type, 'Authorization Error');
        assert.equal(JSON.stringify(body).includes(token), false, 'the answer does not repeat the credentials');
      }
    });

    it('records the last use of a token', async () => {
      const created = await newToken('used');
      const list = async () => ((await call('api_token_list', { user: 'carol' }, basicAuth('carol', CAROL), 'GET')).body.result as TokenDict[]).find((x) => x.id === created.id)!;
      assert.equal((await list()).last_access, null, 'not used yet');
      assert.equal((await whoAmI(created.token)).status, 200);
      const used = await list();
      assert.ok(used.last_access, 'last use is recorded');
      assert.ok(used.last_access! >= used.created_at);
    });

    it('a revoked token fails on the very next request, and says so', async () => {
      const { token, prefix, id } = await newToken('phone');
      assert.equal((await whoAmI(token)).status, 200);
      const revoked = await call('api_token_revoke', { id: prefix }, token);
      assert.equal(revoked.status, 200);
      assert.ok((revoked.body.result as TokenDict).revoked_at);
      const next = await whoAmI(token);
      assert.equal(next.status, 403);
      assert.match(next.body.error!.message, /revoked/);
      assert.equal((await call('api_token_revoke', { id }, token)).status, 403, 'it cannot even revoke itself again');
      assert.equal((await call('api_token_revoke', { id }, basicAuth('carol', CAROL))).status, 200, 'revoking twice is harmless');
    });

    it('an expired token fails at once, even one that worked a moment ago', async () => {
      const created = await newToken('expiring', { expires_days: 1 });
      assert.equal((await whoAmI(created.token)).status, 200);
      await expireToken(t, created.id);
      const next = await whoAmI(created.token);
      assert.equal(next.status, 403);
      assert.match(next.body.error!.message, /expired on \d{4}-/);
    });

    it('tells apart tokens presented together: each request gets its own user or its own refusal', async () => {
      const carol = await newToken('together');
      const revoked = await newToken('together-revoked');
      await call('api_token_revoke', { id: revoked.id }, basicAuth('carol', CAROL));
      const expired = await newToken('together-expired', { expires_days: 1 });
      await expireToken(t, expired.id);
      const daveAnswer = await call('api_token_create', { user: 'dave', name: 'together' }, basicAuth('dave', DAVE));
      const dave = daveAnswer.body.result as TokenDict & { token: string };
      secrets.push(dave.token);
      const tampered = `${carol.token.slice(0, -1)}${carol.token.endsWith('A') ? 'B' : 'A'}`;
      const db = t.host.services.get(DatabaseId);
      let tokenStatements = 0;
      const preparedRead = db.preparedRead.bind(db);
      db.preparedRead = (sql, values, transaction) => {
        if (/FROM api_tokens t/.test(sql)) tokenStatements += 1;
        return preparedRead(sql, values, transaction);
      };
      try {
        const requests: Array<[string, string]> = [
          [carol.token, 'carol'], [dave.token, 'dave'], [revoked.token, 'carol'], [expired.token, 'carol'], [tampered, 'carol'], [carol.token, 'carol'], [dave.token, 'dave'],
        ];
        const answers = await Promise.all(requests.map(([auth, name]) => call('user_show', { id: name }, auth, 'GET')));
        assert.deepEqual(answers.map((a) => a.status), [200, 200, 403, 403, 403, 200, 200]);
        assert.deepEqual(answers.map((a) => (a.body.result as { email?: string } | undefined)?.email), ['c@example.org', 'd@example.org', undefined, undefined, undefined, 'c@example.org', 'd@example.org']);
        assert.match(answers[2]!.body.error!.message, /revoked/);
        assert.match(answers[3]!.body.error!.message, /expired on/);
        assert.equal(answers[4]!.body.error!.message, 'API token is not valid');
        assert.ok(tokenStatements < requests.length, `${tokenStatements} token reads for ${requests.length} requests`);
      } finally {
        db.preparedRead = preparedRead;
      }
    });

    it('tokens and logins of a deleted user fail', async () => {
      const users = t.host.services.get(UserServiceId);
      const erin = await users.create({ name: 'erin', email: 'e@example.org' });
      const { token } = await t.host.services.get(ApiTokenServiceId).create(erin, 'erin');
      secrets.push(token);
      assert.equal((await call('user_show', { id: 'erin' }, token, 'GET')).status, 200);
      await users.delete('erin');
      assert.equal((await call('status_show', {}, token, 'GET')).status, 403);
    });

    it('locks an account after repeated failed logins, even against the right password; set-password unlocks it', async () => {
      const first = await whoAmI(basicAuth('carol', 'wrong-1'));
      assert.equal(first.status, 403);
      assert.equal(first.body.error!.__type, 'Authorization Error');
      assert.equal((await whoAmI(basicAuth('carol', 'wrong-2'))).status, 403);
      const third = await whoAmI(basicAuth('carol', 'wrong-3'));
      // The caller learns nothing of the lock (else anyone could probe which names exist and
      // are locked); the lock is recorded for the owner and admins in the audit trail.
      assert.equal(third.body.error!.message, first.body.error!.message);
      const right = await whoAmI(basicAuth('carol', CAROL));
      assert.equal(right.status, 403);
      assert.equal(right.body.error!.message, first.body.error!.message);
      const carolId = (await t.host.services.get(UserServiceId).get('carol')).id;
      const lockouts = (await auditEvents(t)).filter((e) => e.action === 'user.lockout' && e.objectId === carolId);
      assert.equal(lockouts.length, 1);
      assert.match(String((lockouts[0]!.details as { until?: string }).until), /^\d{4}-/);
      const passwordFile = join(t.db.dir, 'new-password');
      writeFileSync(passwordFile, 'carols-new-password\n', { mode: 0o600 });
      secrets.push('carols-new-password');
      const cli = await runCli(['--config', t.configFile, 'user', 'set-password', 'carol', '--password-file', passwordFile]);
      assert.equal(cli.status, 0, cli.stderr);
      assert.equal((await whoAmI(basicAuth('carol', 'carols-new-password'))).status, 200);
      assert.equal((await whoAmI(basicAuth('carol', CAROL))).status, 403, 'the old password is gone');
      await t.host.services.get(UserServiceId).setPassword('carol', CAROL);
    });

    it('a lockout ends by itself when its time is up', async () => {
      for (let i = 0; i < 3; i++) await whoAmI(basicAuth('carol', `wrong-${i}`));
      assert.equal((await whoAmI(basicAuth('carol', CAROL))).status, 403);
      await t.host.services.get(DatabaseId).models.User.update({ lockedUntil: new Date(Date.now() - 1000) }, { where: { name: 'carol' } });
      assert.equal((await whoAmI(basicAuth('carol', CAROL))).status, 200);
      assert.equal((await whoAmI(basicAuth('carol', 'wrong-again'))).status, 403);
      assert.equal((await whoAmI(basicAuth('carol', CAROL))).status, 200, 'the count started again after the lockout');
    });

    it('a successful login clears the failures before it', async () => {
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 2; i++) assert.equal((await whoAmI(basicAuth('carol', `nearly-${i}`))).status, 403);
        assert.equal((await whoAmI(basicAuth('carol', CAROL))).status, 200, `round ${round}: two failures never lock`);
      }
    });

    it('locks also when the failures arrive all at once', async () => {
      const attempts = await Promise.all(Array.from({ length: 8 }, (_, i) => call('user_show', { id: 'dave' }, basicAuth('dave', `parallel-${i}`), 'GET')));
      assert.ok(attempts.every((a) => a.status === 403));
      const right = await call('user_show', { id: 'dave' }, basicAuth('dave', DAVE), 'GET');
      assert.equal(right.status, 403, `8 failures at once must lock like 8 in a row: ${JSON.stringify(right.body)}`);
    });

    it('a locked account keeps its API tokens: lockout guards passwords', async () => {
      const dave = await t.host.services.get(UserServiceId).get('dave');
      const { token } = await t.host.services.get(ApiTokenServiceId).create(dave, 'dave');
      secrets.push(token);
      for (let i = 0; i < 3; i++) await call('user_show', { id: 'dave' }, basicAuth('dave', `again-${i}`), 'GET');
      assert.equal((await call('user_show', { id: 'dave' }, basicAuth('dave', DAVE), 'GET')).status, 403);
      assert.equal((await call('user_show', { id: 'dave' }, token, 'GET')).status, 200);
    });

    it('gives unknown users, users without a password and wrong passwords the same answer', async () => {
      await t.host.services.get(UserServiceId).create({ name: 'frank', email: 'f@example.org' });
      const unknown = await whoAmI(basicAuth('nobody', 'whatever'));
      const noPassword = await whoAmI(basicAuth('frank', 'whatever'));
      const wrong = await whoAmI(basicAuth('carol', 'whatever-else'));
      assert.equal(unknown.body.error!.message, wrong.body.error!.message);
      assert.equal(noPassword.body.error!.message, wrong.body.error!.message);
      await t.host.services.get(UserServiceId).setPassword('carol', CAROL);
    });

    it('no token or password ever appears in an answer, an audit event or a log line', async () => {
      const audit = JSON.stringify(await auditEvents(t));
      const logs = JSON.stringify(t.logs);
      const rows = JSON.stringify((await t.host.services.get(DatabaseId).models.ApiToken.findAll()).map((r) => r.get({ plain: true })));
      for (const secret of secrets) {
        assert.equal(audit.includes(secret), false, 'audit');
        assert.equal(logs.includes(secret), false, 'logs');
        assert.equal(rows.includes(secret), false, 'token table');
      }
      const creations = answers.filter((a) => a.includes('"token":"plat_'));
      for (const secret of secrets.filter((s) => s.startsWith('plat_'))) {
        assert.ok(creations.filter((a) => a.includes(secret)).length <= 1, 'each token appears in exactly one answer: its creation');
      }
      assert.ok(answers.every((a) => !a.includes(CAROL) && !a.includes(DAVE)), 'passwords never appear in answers');
    });
  });
}
