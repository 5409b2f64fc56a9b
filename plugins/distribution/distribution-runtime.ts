// The plugin's parts wired together: store, intake, routing, delivery, destinations and the
// readers of acknowledgements. One per host; built in register(), started in onStart().
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DatabaseId, DatasetServiceId, JobSchedulerId, ResourceIntakeId, type ActionContext, type Actor, type Delivery, type DeliveryState, type Distribution, type FileCheck, type Logger, type Services } from '../../core/api.js';
import type { Transaction } from 'sequelize';
import type { DistributionSettings } from './distribution-settings.js';
import { DistributionStore, type DistributedFile, type FileFilter } from './distribution-store.js';
import { FileCheckRunner } from './file-check-runner.js';
import { pdfIdentifierCheck } from './pdf-identifier-check.js';
import { Router } from './routing-rules.js';
import { readRulesFile, type RulesConfig } from './rules-file.js';
import { FileIntake, type IntakeResult } from './file-intake.js';
import { FileDeliverer, type SourceOpener } from './file-deliverer.js';
import { scheduleDelivery } from './delivery-job.js';
import type { DeliveryTarget } from './delivery-target.js';
import { createDeliveryTarget } from './delivery-targets.js';
import { DropFolderWatcher } from './drop-folder-watcher.js';
import { AccessLogReader, type LogReadReport } from './access-log-reader.js';
import { logLineParser } from './access-log-format.js';
import { DownloadAcknowledger } from './download-acknowledger.js';
import { READ_LOGS_JOB } from './read-logs-job.js';
import { AnonymisationStep } from './anonymisation-step.js';
import type { DistributionDropFolders } from './drop-folders-service.js';
import { DeliveryHold } from './delivery-hold.js';
import { DistributionStaff } from './distribution-staff.js';

/** Seams for tests and embedding: extra checks, and how bytes are read for sending. */
export interface RuntimeOptions {
  extraFileChecks?: FileCheck[];
  openSource?: SourceOpener;
}

const SYSTEM: Actor = { kind: 'system', name: 'distribution' };
const READ_LOCK = 0x64697374; // 'dist': one reader of logs at a time across nodes

/** Everything the distribution plugin runs. */
export class DistributionRuntime {
  readonly store: DistributionStore;
  readonly checks: FileCheckRunner;
  readonly intake: FileIntake;
  readonly deliverer: FileDeliverer;
  readonly rules: RulesConfig;
  readonly anonymisation: AnonymisationStep;
  readonly hold: DeliveryHold;
  readonly staff: DistributionStaff;
  private readonly targets = new Map<string, DeliveryTarget>();
  private readonly logReader: AccessLogReader | undefined;
  private readonly downloads: DownloadAcknowledger;
  /** Watched drop folders, by resolved path. */
  private readonly watchers = new Map<string, DropFolderWatcher>();

  /** `services` answers once the host has started (not during register). */
  constructor(readonly settings: DistributionSettings, private readonly services: Services, private readonly logger: Logger, options: RuntimeOptions = {}) {
    const svc = (): Services => services;
    this.store = new DistributionStore(() => svc().get(DatabaseId));
    this.rules = settings.rulesFile ? readRulesFile(settings.rulesFile) : { rules: [], destinations: new Map() };
    for (const d of this.rules.destinations.values()) this.targets.set(d.name, createDeliveryTarget(d, { connections: settings.sendConcurrency, services: svc }));
    const shipped: FileCheck[] = [];
    for (const name of settings.fileChecks) {
      if (name === 'pdf-identifier') shipped.push(pdfIdentifierCheck(settings.identifierPattern));
      else throw new Error(`[plugin:distribution] file_checks: unknown check "${name}"; shipped checks are pdf-identifier (or none)`);
    }
    this.checks = new FileCheckRunner([...shipped, ...(options.extraFileChecks ?? [])], svc);
    // A router per batch, remembering the folders it looked up for that batch.
    const router = (): Router => {
      const seen = new Map<string, ReturnType<DistributionStore['folder']>>();
      return new Router(this.rules.rules, (label, tag) => {
        const key = `${label}\u0000${tag}`;
        if (!seen.has(key)) seen.set(key, this.store.folder(label, tag));
        return seen.get(key)!;
      });
    };
    this.intake = new FileIntake(settings, this.store, router, (ids) => this.schedule(ids), logger);
    this.anonymisation = new AnonymisationStep(this.rules.rules, svc, settings.anonymisedDir);
    this.deliverer = new FileDeliverer(settings, this.store, this.checks, (name) => this.targets.get(name), logger, this.anonymisation, options.openSource);
    this.logReader = settings.accessLogs.length ? new AccessLogReader(this.store, logLineParser(settings.accessLogFormat), logger) : undefined;
    this.downloads = new DownloadAcknowledger(this.store);
    this.staff = new DistributionStaff(() => svc().get(DatabaseId));
    this.hold = new DeliveryHold(() => this.store, (ids, transaction) => this.schedule(ids, transaction));
  }

  /** Destination names declared in the rules file. */
  destinationNames(): Set<string> {
    return new Set(this.targets.keys());
  }

  /** A destination's transport. */
  target(name: string): DeliveryTarget | undefined {
    return this.targets.get(name);
  }

  /** Queues delivery jobs for routed files (inside `transaction` when given). */
  async schedule(fileIds: readonly string[], transaction?: Transaction): Promise<void> {
    await scheduleDelivery(this.services.get(JobSchedulerId), fileIds, this.settings.batchSize, this.settings.maxAttempts, transaction);
  }

  /** Once every plugin registered: the anonymisers the rules name must exist. @throws Error naming the rule. */
  initialize(): void {
    this.anonymisation.check();
  }

  /** When serving: watches the drop folder of the deprecated `[plugin:distribution] watch`, and starts the periodic log reading. */
  async start(): Promise<void> {
    if (this.settings.watchDir) {
      this.logger.warn('[plugin:distribution] watch is deprecated: enable the plugin distribution-folders and set [plugin:distribution-folders] watch instead', { watch: this.settings.watchDir });
      await this.dropFolders().watch(this.settings.watchDir, { stableMs: this.settings.stableMs, scanMs: this.settings.scanMs, owner: 'distribution' });
    }
    if (this.settings.logReadMs > 0) await this.scheduleLogReading(0);
  }

  /** Stops watching and closes connections. */
  async stop(): Promise<void> {
    for (const watcher of [...this.watchers.values()]) await watcher.stop();
    this.watchers.clear();
    for (const target of this.targets.values()) await target.close().catch(() => undefined);
  }

  /** The drop folders service: files in a watched folder are moved into intake once stable. */
  dropFolders(): DistributionDropFolders {
    return {
      watch: async (dir, options) => {
        const key = resolve(dir);
        if (this.watchers.has(key)) throw new Error(`the drop folder ${key} is already watched; name it once (in [plugin:distribution-folders] watch)`);
        const watcher = new DropFolderWatcher(key, { stableMs: options.stableMs, scanMs: options.scanMs }, async (paths) => void (await this.intake.takeFiles(paths, { source: 'drop', mode: 'move' })), this.logger);
        this.watchers.set(key, watcher);
        try {
          await watcher.start();
        } catch (error) {
          this.watchers.delete(key);
          await watcher.stop();
          throw error;
        }
        this.logger.info('watching a drop folder', { folder: key, for: options.owner });
        return {
          dispose: async () => {
            if (this.watchers.get(key) !== watcher) return;
            this.watchers.delete(key);
            await watcher.stop();
          },
        };
      },
    };
  }

  /** Queues the next log reading `delayMs` from now (one per time slot, across nodes). */
  async scheduleLogReading(delayMs: number): Promise<void> {
    const at = Date.now() + delayMs;
    const slot = Math.floor(at / Math.max(1000, this.settings.logReadMs));
    await this.services.get(JobSchedulerId).enqueue(READ_LOGS_JOB, {}, { runAfter: new Date(at), dedupeKey: `${READ_LOGS_JOB}:${slot}`, maxAttempts: 1 });
  }

  /** Reads the access logs and the platform's download events; one reader at a time. */
  async readAcknowledgements(): Promise<{ logs: LogReadReport[]; downloads: { events: number; acknowledged: number } }> {
    return this.store.database().withExclusiveLock(READ_LOCK, async () => {
      const logs: LogReadReport[] = [];
      for (const log of this.settings.accessLogs) logs.push(await this.logReader!.read(log));
      return { logs, downloads: await this.downloads.read() };
    });
  }

  /** Takes a stored platform resource into distribution (uploads into datasets of configured types). */
  async takeResource(resourceId: string, actor: string | undefined): Promise<IntakeResult | undefined> {
    const services = this.services;
    const ctx: ActionContext = { action: 'distribution', actor: SYSTEM, address: '', requestId: 'distribution', transaction: undefined, services, emit: () => undefined };
    const { resource } = await services.get(DatasetServiceId).showResource(resourceId, ctx);
    if (!resource.depot || !resource.location) return undefined;
    const depot = services.get(ResourceIntakeId).depot(resource.depot);
    if (!depot) throw new Error(`resource ${resourceId} is in depot "${resource.depot}", which is not enabled`);
    const temp = join(this.settings.root, 'tmp', `${resourceId}`);
    await mkdir(join(this.settings.root, 'tmp'), { recursive: true });
    try {
      await pipeline(await depot.open(resource.location), createWriteStream(temp));
      const [result] = await this.intake.takeFiles([temp], { source: 'upload', ref: `resource:${resourceId}`, mode: 'move', name: resource.name, ...(actor ? { actor } : {}) });
      return result;
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** The platform's Distribution hook over this runtime. */
  distribution(): Distribution {
    const delivery = (f: DistributedFile): Delivery => ({ id: f.id, recipient: f.destination ? `${f.destination}:${f.folder ?? ''}` : '', file: f.name, state: deliveryState(f), updatedAt: f.updatedAt });
    return {
      name: 'distribution',
      distribute: async (resourceId) => {
        const result = await this.takeResource(resourceId, undefined);
        return result && 'file' in result ? [delivery(result.file)] : [];
      },
      acknowledge: async (deliveryId, recipient) => {
        const file = await this.store.get(deliveryId);
        if (!file) throw new Error(`no distributed file ${deliveryId}`);
        await this.store.acknowledge(file, { actor: recipient, at: new Date(), address: undefined, via: 'acknowledged through the Distribution hook' });
        return delivery((await this.store.get(deliveryId))!);
      },
      search: async (query) => {
        const files = await this.store.list({ ...(query.file ? { name: query.file } : {}), ...(query.state ? { state: stateFilter(query.state) } : {}), limit: query.limit ?? 100 });
        return files.filter((f) => !query.recipient || `${f.destination}:${f.folder ?? ''}`.includes(query.recipient)).map(delivery);
      },
    };
  }
}


function deliveryState(f: DistributedFile): DeliveryState {
  if (f.acknowledgedAt) return 'acknowledged';
  if (f.state === 'archived') return 'archived';
  if (f.state === 'sent') return 'sent';
  if (f.state === 'received') return 'uploaded';
  return 'pending';
}

function stateFilter(state: DeliveryState): FileFilter['state'] {
  if (state === 'uploaded') return 'received';
  return state;
}
