// `platform camcops idnum-type|policy|upload-group ...`: setting up a clinic for CamCOPS
// tablets from the command line. The setters run the plugin's actions (so permissions,
// validation and auditing are the same as through the action API); the listings read the
// plugin's tables.
import { ActionRunnerId, DatabaseId, OrganizationServiceId, UsageError, printTable, stringOption, type Actor, type CommandArgs, type CommandDefinition } from '../../core/api.js';
import { idnumDefinitions } from './camcops-settings.js';
import { SqlRunner } from './sql-runner.js';

const CLI: Actor = { kind: 'system', name: 'cli' };

function positionals(args: CommandArgs, names: string[], command: string): string[] {
  if (args.positionals.length !== names.length) throw new UsageError(`expected ${names.join(' ')}; see platform ${command} --help`);
  return args.positionals;
}

function required(args: CommandArgs, name: string, command: string): string {
  const value = stringOption(args, name);
  if (!value) throw new UsageError(`--${name} is required; see platform ${command} --help`);
  return value;
}

/** The commands. */
export function camcopsCommands(): CommandDefinition[] {
  return [
    {
      name: 'camcops idnum-type set',
      summary: 'define (or redefine) an ID number type for CamCOPS uploads',
      usage: 'N',
      description: [
        'Examples:',
        '  platform camcops idnum-type set 1 --description "NHS number" --short-description NHS --validation uk_nhs_number',
        '  platform camcops idnum-type set 2 --description "Hospital number" --short-description HN',
      ].join('\n'),
      needs: 'database',
      options: {
        description: { type: 'string', value: 'TEXT', description: 'what tablets show (required)' },
        'short-description': { type: 'string', value: 'TEXT', description: 'short form, at most 64 characters (required)' },
        validation: { type: 'string', value: 'METHOD', description: 'uk_nhs_number, or none (the default)' },
      },
      async run(args, ctx) {
        const [which] = positionals(args, ['N'], 'camcops idnum-type set');
        if (!/^\d+$/.test(which!)) throw new UsageError(`N must be a positive whole number, not "${which}"`);
        const input = {
          which_idnum: Number(which),
          description: required(args, 'description', 'camcops idnum-type set'),
          short_description: required(args, 'short-description', 'camcops idnum-type set'),
          validation_method: stringOption(args, 'validation') ?? '',
        };
        await ctx.services.get(ActionRunnerId).run('camcops_idnum_definition_set', input, { actor: CLI });
        ctx.stderr.write(`ID number type ${input.which_idnum} is ${input.description} (${input.short_description})\n`);
      },
    },
    {
      name: 'camcops idnum-type list',
      summary: 'list the ID number types tablets are told about',
      description: 'Example:\n  platform camcops idnum-type list',
      needs: 'database',
      async run(_args, ctx) {
        const db = ctx.services.get(DatabaseId);
        const definitions = await idnumDefinitions(new SqlRunner(db.sequelize, db.dialect, undefined));
        printTable(ctx.stdout, ['N', 'SHORT', 'DESCRIPTION', 'VALIDATION'], [...definitions.values()].map((d) => [String(d.whichIdnum), d.shortDescription, d.description, d.validationMethod || '-']));
      },
    },
    {
      name: 'camcops policy set',
      summary: "set an organization's CamCOPS upload and finalize ID policies",
      usage: 'ORG',
      description: [
        'A policy left out becomes empty (everyone passes). Terms: forename surname dob sex address gp',
        'otherdetails email idnumN anyidnum otheridnum; operators AND OR NOT and brackets.',
        'Example:',
        '  platform camcops policy set clinic --upload "sex AND anyidnum" --finalize "sex AND dob AND idnum1"',
      ].join('\n'),
      needs: 'database',
      options: {
        upload: { type: 'string', value: 'POLICY', description: 'what every uploaded patient must have' },
        finalize: { type: 'string', value: 'POLICY', description: 'what every preserved (finalized) patient must have' },
      },
      async run(args, ctx) {
        const [organization] = positionals(args, ['ORG'], 'camcops policy set');
        const input = { organization, upload_policy: stringOption(args, 'upload') ?? '', finalize_policy: stringOption(args, 'finalize') ?? '' };
        await ctx.services.get(ActionRunnerId).run('camcops_group_policy_set', input, { actor: CLI });
        ctx.stderr.write(`${organization}: upload policy "${input.upload_policy}", finalize policy "${input.finalize_policy}"\n`);
      },
    },
    {
      name: 'camcops policy list',
      summary: "list organizations' CamCOPS ID policies",
      description: 'Example:\n  platform camcops policy list',
      needs: 'database',
      async run(_args, ctx) {
        const db = ctx.services.get(DatabaseId);
        const sql = new SqlRunner(db.sequelize, db.dialect, undefined);
        const rows = await sql.select<{ organization_id: string; upload_policy: string; finalize_policy: string }>('SELECT organization_id, upload_policy, finalize_policy FROM camcops_group_policies');
        const byId = new Map(rows.map((r) => [r.organization_id, r]));
        const orgs = await ctx.services.get(OrganizationServiceId).list();
        printTable(ctx.stdout, ['ORG', 'UPLOAD', 'FINALIZE'], orgs.map((o) => [o.name, byId.get(o.id)?.upload_policy || '-', byId.get(o.id)?.finalize_policy || '-']));
      },
    },
    {
      name: 'camcops upload-group set',
      summary: "set the organization a user's tablets upload into (and whether they may register devices there)",
      usage: 'USER ORG',
      description: [
        'The user must be a member of ORG. --may-register-devices lets them register tablets there without',
        'the register role (register_role, default admin), as CamCOPS\'s "may register devices": a tablet',
        'account can then be an editor, who cannot change ID policies or export. Setting the group again',
        'without the option takes the permission away.',
        'Example:',
        '  platform org member-add clinic tablet1 --role editor',
        '  platform camcops upload-group set tablet1 clinic --may-register-devices',
      ].join('\n'),
      needs: 'database',
      options: { 'may-register-devices': { type: 'boolean', description: 'may register devices in ORG' } },
      async run(args, ctx) {
        const [user, organization] = positionals(args, ['USER', 'ORG'], 'camcops upload-group set');
        const mayRegister = args.options['may-register-devices'] === true;
        await ctx.services.get(ActionRunnerId).run('camcops_upload_group_set', { user, organization, may_register_devices: mayRegister }, { actor: CLI });
        ctx.stderr.write(`${user} uploads into ${organization}${mayRegister ? ' and may register devices there' : ''}\n`);
      },
    },
  ];
}
