// The checks core contributes to `platform inspect` (besides the config check, which runs
// before the host starts): directories, database, plugins, auth and depot consistency.
import { join } from 'node:path';
import { Op } from 'sequelize';
import type { InspectCheck, InspectFinding } from '../../plugins/hooks/inspect-checks.js';
import { DatabaseId, HookRegistriesId, LoadedPluginsId, MigratorId, PasswordHasherId, PlatformConfigId } from '../../services/service-ids.js';
import { directoryFindings } from './directory-findings.js';
import { depotConsistencyCheck } from './depot-consistency-check.js';
import { jobsCheck } from './jobs-check.js';
import { webFrontCheck } from './web-front-check.js';

/** Sysadmins whose tokens were not used for this long are listed. */
const STALE_SYSADMIN_DAYS = 90;

const directories: InspectCheck = {
  area: 'directories',
  name: 'data directories',
  async run(ctx) {
    const config = ctx.services.get(PlatformConfigId);
    const minFreeMb = config.section<{ min_free_mb: number }>('inspect').min_free_mb;
    const dataDir = config.path('platform', 'data_dir')!;
    return [
      ...directoryFindings('data', dataDir, { minFreeMb }),
      ...directoryFindings('temporary', join(dataDir, 'tmp')),
      ...directoryFindings('logs', join(dataDir, 'logs')),
    ];
  },
};

const database: InspectCheck = {
  area: 'database',
  name: 'migrations',
  async run(ctx) {
    const migrator = ctx.services.get(MigratorId);
    const pending = await migrator.pending();
    const db = ctx.services.get(DatabaseId);
    if (!pending.length) return [{ severity: 'ok', title: `database ${db.description} is reachable and up to date` }];
    return [{
      severity: 'problem',
      title: `${pending.length} migration(s) not applied: ${pending.join(', ')}`,
      why: 'the code expects tables and columns that are not there yet',
      fix: 'platform db upgrade',
      details: pending,
      repair: { description: `apply migrations ${pending.join(', ')}`, apply: async () => `applied ${(await migrator.up()).join(', ') || 'nothing'}` },
    }];
  },
};

const plugins: InspectCheck = {
  area: 'plugins',
  name: 'enabled plugins',
  async run(ctx) {
    const loaded = ctx.services.get(LoadedPluginsId);
    const registries = ctx.services.get(HookRegistriesId);
    if (!loaded.length) return [{ severity: 'warning', title: 'no plugins are enabled', why: 'without a depot plugin nothing can be uploaded', fix: 'list plugins in [platform] plugins' }];
    const findings: InspectFinding[] = loaded.map((p) => ({ severity: 'ok', title: `${p.definition.name} ${p.definition.version} loaded (${p.origin}), contributes ${registries.contributionsOf(p.definition.name).length} hook(s)` }));
    const config = ctx.services.get(PlatformConfigId);
    const active = config.string('depot', 'active');
    if (active && !registries.depots.get(active)) {
      findings.push({ severity: 'problem', title: `[depot] active = ${active}, but no enabled plugin provides that depot`, why: 'uploads cannot be stored', fix: `enable the plugin providing "${active}" (e.g. depot-fs) or set [depot] active to one of: ${registries.depots.names().join(', ') || '(none)'}` });
    }
    for (const section of config.ignoredSections) {
      findings.push({ severity: 'warning', title: `section [${section}] is ignored: that plugin is not enabled`, fix: `remove the section or enable the plugin` });
    }
    return findings;
  },
};

const auth: InspectCheck = {
  area: 'auth',
  name: 'accounts and tokens',
  async run(ctx) {
    const db = ctx.services.get(DatabaseId);
    const findings: InspectFinding[] = [];
    const users = (await db.models.User.findAll({ where: { state: 'active' } })).map((u) => u.get({ plain: true }));
    const sysadmins = users.filter((u) => u.sysadmin);
    if (!sysadmins.length) findings.push({ severity: 'problem', title: 'there is no sysadmin', why: 'nobody can create organisations or users through the API', fix: 'platform user add admin --email ADDRESS --sysadmin' });
    for (const user of users.slice(0, 1000)) {
      if (user.passwordHash && (await ctx.services.get(PasswordHasherId).verify(user.name, user.passwordHash))) {
        findings.push({ severity: 'problem', title: `user ${user.name} has a password equal to its name`, why: 'it is the first password an attacker tries', fix: `platform user set-password ${user.name}` });
      }
    }
    const now = new Date();
    const expired = (await db.models.ApiToken.findAll({ where: { revokedAt: null, expiresAt: { [Op.lte]: now } } })).map((t) => t.get({ plain: true }));
    if (expired.length) {
      findings.push({
        severity: 'problem',
        title: `${expired.length} API token(s) past expiry are not revoked`,
        why: 'they are refused already, but revoking them keeps the token list honest',
        fix: 'platform inspect --only auth --repair',
        details: expired.map((t) => `${t.prefix} (${t.name}), expired ${t.expiresAt!.toISOString()}`),
        repair: {
          description: `revoke ${expired.length} expired token(s)`,
          apply: async () => {
            await db.models.ApiToken.update({ revokedAt: now }, { where: { id: expired.map((t) => t.id) } });
            return `revoked ${expired.map((t) => t.prefix).join(', ')}`;
          },
        },
      });
    }
    const cutoff = new Date(now.getTime() - STALE_SYSADMIN_DAYS * 86_400_000);
    for (const admin of sysadmins) {
      const recent = await db.models.ApiToken.count({ where: { userId: admin.id, lastUsedAt: { [Op.gte]: cutoff } } });
      if (!recent && admin.createdAt < cutoff) findings.push({ severity: 'warning', title: `sysadmin ${admin.name} has not used an API token for ${STALE_SYSADMIN_DAYS} days`, fix: `if the account is no longer needed: platform user sysadmin ${admin.name} --off` });
    }
    if (!findings.some((f) => f.severity !== 'ok')) findings.push({ severity: 'ok', title: `${users.length} user(s), ${sysadmins.length} sysadmin(s), no weak or stale credentials found` });
    return findings;
  },
};

/** Core's inspect checks, in the order they run. */
export function coreInspectChecks(): InspectCheck[] {
  return [directories, database, plugins, depotConsistencyCheck, jobsCheck, auth, webFrontCheck];
}
