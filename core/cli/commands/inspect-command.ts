// platform inspect [--repair] [--yes] [--json] [--only AREA[,AREA]] [--deep]: finds what is
// wrong with an installation and repairs what is safe. Exit 0 when nothing is left wrong
// (warnings allowed), 1 when problems remain, 2 when inspect itself could not run.
import type { CommandDefinition, CommandContext } from '../../plugins/hooks/commands.js';
import type { InspectCheck, InspectFinding } from '../../plugins/hooks/inspect-checks.js';
import type { PlatformConfig } from '../../config/platform-config.js';
import type { Services } from '../../services/services.js';
import { ConfigError, PluginError, UsageError, describeError } from '../../errors.js';
import { configFileFindings, secretFindings } from '../../inspect/checks/config-check.js';
import { runInspectChecks, summarise, type RepairMode } from '../../inspect/inspect-runner.js';
import type { InspectReport, ReportedCheck } from '../../inspect/inspect-report.js';
import { storeInspectReport } from '../../inspect/inspect-report-store.js';
import { AuditLogId, DatabaseId, MigratorId } from '../../services/service-ids.js';
import { renderInspectReport, terminalProgress } from '../../inspect/inspect-output.js';
import { stringOption } from './command-support.js';

/** The inspect command. */
/** What inspect needs of a host started on the database, without migrating or creating secrets. */
export interface InspectedHost {
  readonly config: PlatformConfig;
  readonly services: Services;
  readonly registries: { readonly inspectChecks: { values(): InspectCheck[] } };
  stop(): Promise<void>;
}

/**
 * Starts a host for inspect; the host hands it in when it registers core's commands (importing
 * the host here would make host -> commands -> inspect -> host a cycle).
 * @throws ConfigError or PluginError when the configuration or a plugin cannot start
 */
export type InspectHostStarter = (options: { configFile: string; env: NodeJS.ProcessEnv }) => Promise<InspectedHost>;

export function inspectCommands(startHost: InspectHostStarter): CommandDefinition[] {
  return [
    {
      name: 'inspect',
      summary: 'find what is wrong with this installation, and repair it with --repair',
      description: 'Each finding says what is wrong, why it matters and the fix. Exit status: 0 nothing left wrong (warnings allowed), 1 problems remain, 2 inspect could not run.',
      needs: 'none',
      options: {
        repair: { type: 'boolean', description: 'apply the safe repairs (asks for each on a terminal unless --yes)' },
        yes: { type: 'boolean', description: 'with --repair: apply without asking' },
        json: { type: 'boolean', description: 'print the report as one JSON document (see docs/inspect.md)' },
        only: { type: 'string', value: 'AREAS', description: 'comma-separated areas, e.g. config,depot' },
        deep: { type: 'boolean', description: 'also run slow checks (re-hash every stored file)' },
        'retry-dead': { type: 'boolean', description: 'with --repair: also queue dead jobs again' },
      },
      async run(args, ctx) {
        const report = await inspect(ctx, startHost, {
          repair: args.options.repair === true ? (args.options.yes === true ? 'yes' : 'ask') : 'none',
          deep: args.options.deep === true,
          retryDead: args.options['retry-dead'] === true,
          only: stringOption(args, 'only')?.split(',').map((a) => a.trim()).filter(Boolean),
          json: args.options.json === true,
        });
        if (args.options.json) ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else ctx.stdout.write(renderInspectReport(report));
        return report.exitCode;
      },
    },
  ];
}

interface InspectOptions {
  repair: RepairMode;
  deep: boolean;
  retryDead: boolean;
  only: string[] | undefined;
  json: boolean;
}

async function inspect(ctx: CommandContext, startHost: InspectHostStarter, options: InspectOptions): Promise<InspectReport> {
  if (options.repair === 'ask' && !ctx.interactive) ctx.stderr.write('no terminal to ask on: repairs are skipped (add --yes to apply them)\n');
  const startedAt = new Date().toISOString();
  const wants = (area: string): boolean => !options.only?.length || options.only.includes(area);
  const checks: ReportedCheck[] = [];
  const confirm = (question: string): Promise<boolean> => ctx.confirm(question);
  const progress = !options.json && (ctx.stderr as NodeJS.WriteStream).isTTY ? terminalProgress(ctx.stderr) : undefined;

  // Config first, without the host: it must work on a configuration too broken to start from.
  let host: InspectedHost | undefined;
  let startError: unknown;
  try {
    host = await startHost({ configFile: ctx.configFile, env: ctx.env });
  } catch (error) {
    if (!(error instanceof ConfigError || error instanceof PluginError)) throw error;
    startError = error;
  }
  try {
    const configCheck: InspectCheck = {
      area: 'config',
      name: 'platform.ini and secrets',
      run: async () => {
        const unreachableDb = startError instanceof ConfigError && /cannot reach the database/.test(startError.message);
        return [...configFileFindings(ctx.configFile, unreachableDb ? undefined : startError), ...(host ? secretFindings(host.config) : [])];
      },
    };
    const onRepaired = async (check: InspectCheck, finding: InspectFinding, message: string): Promise<void> => {
      await host?.services.get(AuditLogId).record({ actor: { kind: 'system', name: 'inspect' }, action: 'inspect.repair', objectType: 'inspect', objectId: `${check.area}/${check.name}`, details: { finding: finding.title, repair: message } });
    };
    const noServices = { get: (): never => { throw new UsageError('the config check runs without services'); } };
    if (wants('config')) checks.push(...(await runInspectChecks([configCheck], { deep: options.deep, repair: options.repair, confirm, onRepaired, context: { services: noServices, config: host?.config as PlatformConfig, deep: options.deep } })));
    if (!host) {
      if (startError instanceof ConfigError && /cannot reach the database/.test(startError.message) && wants('database')) {
        const missingFile = /does not exist yet/.test(startError.message);
        checks.push({ area: 'database', name: 'connection', status: 'problem', findings: [{ severity: 'problem', title: startError.message, why: 'nothing works without the database', fix: missingFile ? 'run platform db upgrade (or start the platform), or correct [db] url' : 'start the database server, or correct [db] url' }] });
      }
    } else {
      const registered = host.registries.inspectChecks.values().filter((c) => wants(c.area));
      const runChecks = async (list: InspectCheck[]): Promise<ReportedCheck[]> =>
        runInspectChecks(list, {
          deep: options.deep,
          repair: options.repair,
          confirm,
          onCheckStart: (check) => progress?.start(`${check.area}: ${check.name}`),
          onCheckDone: () => progress?.done(),
          onRepaired,
          context: { services: host!.services, config: host!.config, deep: options.deep, retryDead: options.retryDead, ...(progress ? { progress: progress.update } : {}) },
        });
      // With migrations pending the tables other checks read may not exist: the database
      // checks run first (their repair applies the migrations), the rest only once none is pending.
      const migrator = host.services.get(MigratorId);
      if ((await migrator.pending()).length) {
        checks.push(...(await runChecks(registered.filter((c) => c.area === 'database'))));
        const pending = await migrator.pending();
        const rest = registered.filter((c) => c.area !== 'database');
        if (pending.length) checks.push(...rest.map((c) => skippedCheck(c, pending.length)));
        else checks.push(...(await runChecks(rest)));
      } else {
        checks.push(...(await runChecks(registered)));
      }
    }
    const { summary, exitCode } = summarise(checks);
    const report: InspectReport = { version: 1, startedAt, finishedAt: new Date().toISOString(), config: ctx.configFile, deep: options.deep, repair: options.repair !== 'none', checks, summary, exitCode };
    if (host) {
      // Kept for the admin page; a database not yet migrated cannot hold it, which is no reason to fail.
      await storeInspectReport(host.services.get(DatabaseId), report).catch((error: unknown) => void ctx.stderr.write(`the report was not stored for the admin page: ${describeError(error)}\n`));
    }
    return report;
  } catch (error) {
    ctx.stderr.write(`inspect could not run: ${describeError(error)}\n`);
    const { summary } = summarise(checks);
    return { version: 1, startedAt, finishedAt: new Date().toISOString(), config: ctx.configFile, deep: options.deep, repair: options.repair !== 'none', checks, summary, exitCode: 2 };
  } finally {
    await host?.stop();
  }
}

/** A check not run because the database has migrations pending. */
function skippedCheck(check: InspectCheck, pending: number): ReportedCheck {
  return {
    area: check.area,
    name: check.name,
    status: 'warning',
    findings: [{ severity: 'warning', title: `skipped until \`platform db upgrade\` (${pending} migration(s) pending)`, why: 'the tables this check reads may not exist yet', fix: 'run platform db upgrade (or platform inspect --repair), then inspect again' }],
  };
}
