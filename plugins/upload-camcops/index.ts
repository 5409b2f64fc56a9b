// upload-camcops: a server for the CamCOPS tablet upload protocol under /upload/camcops/api,
// with client tables declared by definition files, ID policies, history-keeping uploads and
// an action API to read and administer what tablets sent: task schedules, IP-use flags,
// special notes and the server's task index.
import { Actions, Commands, DatabaseId, definePlugin, InspectChecks, JobHandlers, Lifecycle, Migrations, UploadProtocol } from '../../core/api.js';
import { CamcopsApi } from './camcops-api.js';
import { camcopsActions } from './camcops-actions.js';
import { createCamcopsTables, createServerPatients, countAlreadyPreserved, createTaskSchedules, createSpecialNotes, createTaskIndex, mayRegisterDevices } from './camcops-migration.js';
import { ipUseActions } from './ip-use.js';
import { taskScheduleActions } from './task-schedules.js';
import { specialNoteActions } from './special-notes.js';
import { taskIndexCheck, taskIndexListAction } from './task-index.js';
import { serverPatientCreateAction } from './server-patients.js';
import { importExtraStringsCommand } from './extra-strings-command.js';
import { camcopsCommands } from './camcops-commands.js';
import { ClientTableRegistry, shippedTasksDir } from './client-table-registry.js';
import { syncClientTables } from './client-table-schema.js';
import { SqlRunner } from './sql-runner.js';
import { clientTablesCheck } from './client-tables-check.js';
import { exportJobHandler, exportStartAction } from './camcops-export.js';

export default definePlugin({
  name: 'upload-camcops',
  version: '0.1.0',
  description: 'CamCOPS tablet uploads (client API 2.x): sessions, device registration, stepwise and one-step uploads with history, ID policies',
  coreVersion: '^0.1.0',
  config: {
    type: 'object',
    additionalProperties: false,
    properties: {
      database_title: { type: 'string', default: 'CamCOPS', description: 'Title tablets show for this server.' },
      server_camcops_version: { type: 'string', default: '2.4.22', description: 'CamCOPS server version announced to tablets (they check it against their minimum).' },
      session_timeout_minutes: { type: 'integer', minimum: 1, maximum: 1440, default: 30, description: 'A tablet session lapses after this long without a request.' },
      max_request_bytes: { type: 'integer', minimum: 65536, default: 104857600, description: 'Largest request body (one-step uploads carry the whole client database).' },
      task_dirs: { type: 'string', default: '', description: 'Extra folders (space-separated) of task table definitions (*.json), besides the shipped ones.' },
      register_role: { type: 'string', enum: ['member', 'editor', 'admin'], default: 'admin', description: 'Least role in the upload group that may register devices.' },
      upload_role: { type: 'string', enum: ['member', 'editor', 'admin'], default: 'editor', description: 'Least role in the upload group that may upload.' },
      note_role: { type: 'string', enum: ['member', 'editor', 'admin'], default: 'admin', description: 'Least role in an organisation that may add special notes to its tasks and patients.' },
    },
  },
  register(ctx) {
    const extraDirs = ctx.config.task_dirs.split(/\s+/).filter(Boolean).map((d) => ctx.resolvePath(d));
    // Loaded at register so that a bad definition stops start-up with the file's name.
    const tables = ClientTableRegistry.load([shippedTasksDir(), ...extraDirs]);
    const api = new CamcopsApi(
      ctx.services,
      () => tables,
      {
        server: { databaseTitle: ctx.config.database_title, serverVersion: ctx.config.server_camcops_version },
        sessionTimeoutMinutes: ctx.config.session_timeout_minutes,
        maxRequestBytes: ctx.config.max_request_bytes,
        registerRole: ctx.config.register_role,
        uploadRole: ctx.config.upload_role,
      },
      ctx.logger,
    );
    ctx.contribute(UploadProtocol, api);
    ctx.contribute(Migrations, { migrations: [createCamcopsTables, createServerPatients, countAlreadyPreserved, createTaskSchedules, createSpecialNotes, createTaskIndex, mayRegisterDevices] });
    for (const action of camcopsActions(() => tables)) ctx.contribute(Actions, action);
    for (const action of ipUseActions()) ctx.contribute(Actions, action);
    for (const action of taskScheduleActions(() => tables)) ctx.contribute(Actions, action);
    for (const action of specialNoteActions(() => tables, ctx.config.note_role)) ctx.contribute(Actions, action);
    ctx.contribute(Actions, taskIndexListAction(() => tables));
    ctx.contribute(Actions, exportStartAction());
    ctx.contribute(Actions, serverPatientCreateAction());
    ctx.contribute(JobHandlers, exportJobHandler(() => tables));
    ctx.contribute(Commands, importExtraStringsCommand);
    for (const command of camcopsCommands()) ctx.contribute(Commands, command);
    ctx.contribute(InspectChecks, clientTablesCheck(() => tables));
    ctx.contribute(InspectChecks, taskIndexCheck(() => tables));
    ctx.contribute(Lifecycle, {
      async initialize(services) {
        // Hosts started for commands that need no database have none: nothing to create then.
        let db;
        try {
          db = services.get(DatabaseId);
        } catch {
          return;
        }
        await syncClientTables(new SqlRunner(db.sequelize, db.dialect, undefined), tables.ordered());
      },
    });
  },
});
