// Datasets and resources: create, read, update, delete, with permission checks, the Schema
// veto hooks, audit events and lifecycle events on every write path.
import { randomUUID } from 'node:crypto';
import { QueryTypes, type Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import type { DatasetRow, ResourceRow } from '../db/core-models.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { OrganizationService } from '../auth/organization-service.js';
import type { PermissionService } from '../auth/permission-service.js';
import type { ActionContext } from '../plugins/hooks/actions.js';
import type { Schema } from '../plugins/hooks/schema.js';
import type { Contribution } from '../plugins/hook-id.js';
import type { ReadCache } from './read-cache.js';
import { ConflictError, NotFoundError, ValidationError, addFieldError, fieldErrors, type FieldErrors } from '../errors.js';
import type { DatasetRecord, ResourceRecord } from './dataset-types.js';
import { DATASET_COLUMNS, RESOURCE_COLUMNS, datasetReadSql, toDatasetRead, toDatasetRecord, toResourceRecord, type DatasetRead, type DatasetReadRow } from './dataset-read.js';
import { BatchedLookup } from '../util/batched-lookup.js';
import { slugProblem } from '../util/names.js';
import { guessFormat, planInlineResources, type InlineResourcePlan } from './inline-resources.js';
import { parseDatasetInput, parseResourceInput, searchText, type DatasetInput, type ResourceInput } from './dataset-input.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Datasets and their resources. */
export class DatasetService {
  /** package_show's reads outside transactions, batched by id and by name (see showMany). */
  private readonly showLookups = {
    id: new BatchedLookup<DatasetReadRow>((ids) => this.showMany('id', ids)),
    name: new BatchedLookup<DatasetReadRow>((names) => this.showMany('name', names)),
  };
  /** showMany's statements by id and by name, built once: the same text each time is hashed and looked up once. */
  private readonly showStatements: Partial<Record<'id' | 'name', string>> = {};

  constructor(
    private readonly db: Database,
    private readonly organizations: OrganizationService,
    private readonly permissions: PermissionService,
    private readonly audit: AuditLog,
    private readonly schemas: readonly Contribution<Schema>[],
    private readonly cache: ReadCache,
    /** `[platform] site_url`, for the download URLs of stored files. */
    private readonly siteUrl = '',
  ) {}

  /** Where a stored file is downloaded (the `url` CKAN shows for uploads, `url_type: upload`). */
  downloadUrl(resource: Pick<ResourceRecord, 'id' | 'datasetId' | 'name'>): string {
    return `${this.siteUrl.replace(/\/$/, '')}/dataset/${resource.datasetId}/resource/${resource.id}/download/${encodeURIComponent(resource.name)}`;
  }

  /** Drops the dataset's cached reads (and every cached search) once the change commits (at once without a transaction). */
  private changed(ctx: ActionContext, datasetId: string): void {
    if (ctx.transaction) ctx.transaction.afterCommit(() => this.cache.invalidate([datasetId]));
    else void this.cache.invalidate([datasetId]);
  }

  /** Fields the schemas declare for a dataset type (beyond core's). */
  extraFields(type: string): Set<string> {
    const names = new Set<string>();
    for (const { value } of this.schemas) {
      const schema = value.jsonSchema?.(type) as { properties?: Record<string, unknown> } | undefined;
      for (const key of Object.keys(schema?.properties ?? {})) names.add(key);
    }
    return names;
  }

  /**
   * Finds a dataset row by name or id, whatever its state. Values come in the database's own
   * forms (on SQLite: 0/1, date and JSON text), which toDatasetRecord normalises.
   */
  async findRow(nameOrId: string, transaction?: Transaction): Promise<DatasetRow | undefined> {
    // Plain SQL, not a model query: on SQLite sequelize runs PRAGMA table_info before every
    // model SELECT, and this runs on every package_show (benchmarks: 3x the time).
    const [row] = await this.db.sequelize.query<DatasetRow>(
      `SELECT ${DATASET_COLUMNS} FROM datasets WHERE ${UUID.test(nameOrId) ? 'id' : 'name'} = :nameOrId`,
      { replacements: { nameOrId }, type: QueryTypes.SELECT, transaction },
    );
    return row;
  }

  /**
   * A dataset the actor may see. Invisible and missing datasets both give NotFoundError
   * for anonymous callers, so private names do not leak.
   */
  async show(nameOrId: string, ctx: ActionContext): Promise<DatasetRead> {
    // One round trip: the dataset, its organisation and its resources (as a JSON list) come
    // back in one row. package_show runs this on every uncached read; three queries cost
    // the database three times the work (benchmarks: docs/benchmarks.md). Outside a
    // transaction, reads that arrive together share one statement (BatchedLookup).
    const by = UUID.test(nameOrId) ? 'id' : 'name';
    const key = by === 'id' ? nameOrId.toLowerCase() : nameOrId;
    // Only slugs are dataset names: anything else is not looked up, so no key a database
    // might refuse (a NUL byte, say) ever fails the reads batched with it.
    let row: DatasetReadRow | undefined;
    if (by === 'id' || !slugProblem(key)) row = ctx.transaction ? (await this.showMany(by, [key], ctx.transaction)).get(key) : await this.showLookups[by].get(key);
    if (!row) throw new NotFoundError(`dataset "${nameOrId}" not found`);
    const read = toDatasetRead(row);
    await this.requireOnDataset('package_show', read.dataset, ctx, {}, nameOrId);
    return read;
  }

  /**
   * A dataset row by id with its organisation and resources, whatever its state and without
   * a permission check (searches check visibility themselves); reads that arrive together
   * share one statement with package_show's.
   */
  readRowById(id: string): Promise<DatasetReadRow | undefined> {
    return this.showLookups.id.get(id.toLowerCase());
  }

  /**
   * Reads datasets by id (lower case) or by name, whatever their state, with their
   * organisation and resources: one statement for all of them.
   * @returns the rows found, by the key they were asked by
   */
  private async showMany(by: 'id' | 'name', keys: string[], transaction?: Transaction): Promise<Map<string, DatasetReadRow>> {
    const postgres = this.db.dialect === 'postgres';
    // One statement text whatever the number of keys: an array on PostgreSQL, a JSON list on
    // SQLite (json_each), so each is prepared once.
    const sql = (this.showStatements[by] ??= datasetReadSql(
      this.db.dialect,
      postgres ? `SELECT d.* FROM datasets d WHERE d.${by} = ANY($1::${by === 'id' ? 'uuid' : 'text'}[])` : `SELECT d.* FROM datasets d WHERE d.${by} IN (SELECT value FROM json_each($1))`,
    ));
    const rows = await this.db.preparedRead<DatasetReadRow>(sql, [postgres ? keys : JSON.stringify(keys)], transaction);
    return new Map(rows.map((row) => [by === 'id' ? row.id.toLowerCase() : row.name, row]));
  }

  /** Resources of a dataset in position order (deleted ones left out). */
  async resourcesOf(datasetId: string, transaction?: Transaction): Promise<ResourceRecord[]> {
    const rows = await this.db.sequelize.query<ResourceRow>(`SELECT ${RESOURCE_COLUMNS} FROM resources WHERE dataset_id = :datasetId ORDER BY position ASC, created_at ASC`, {
      replacements: { datasetId },
      type: QueryTypes.SELECT,
      transaction,
    });
    return rows.map(toResourceRecord).filter((r) => r.state !== 'deleted');
  }

  /** Creates a dataset (package_create). */
  async create(raw: Record<string, unknown>, ctx: ActionContext): Promise<DatasetRecord> {
    const fields: FieldErrors = fieldErrors();
    const type = typeof raw.type === 'string' ? raw.type : 'dataset';
    const input = parseDatasetInput(raw, this.extraFields(type), fields);
    if (input.name === undefined) (fields.name ??= []).push('Missing value');
    if (input.ownerOrg === undefined) (fields.owner_org ??= []).push('Missing value');
    const id = randomUUID();
    const now = new Date();
    const plan = raw.resources === undefined ? undefined : planInlineResources(raw.resources, [], id, now, fields);
    if (Object.keys(fields).length) throw new ValidationError('dataset is invalid', fields);
    const org = await this.organizations.find(input.ownerOrg!, ctx.transaction);
    if (!org) throw new ValidationError('dataset is invalid', { owner_org: [`organization "${input.ownerOrg}" does not exist`] });
    await this.permissions.require({ actor: ctx.actor, action: ctx.action, target: { organizationId: org.id }, input: raw }, undefined, ctx.transaction);
    if (await this.findRow(input.name!, ctx.transaction)) throw new ConflictError(`dataset name "${input.name}" is already in use`, { name: ['That URL is already in use.'] });
    const dataset: DatasetRecord = {
      id, name: input.name!, title: input.title ?? input.name!, notes: input.notes ?? '', type, ownerOrgId: org.id,
      private: input.private ?? false, state: input.state ?? 'active', licenseId: input.licenseId ?? undefined, tags: input.tags ?? [],
      extras: input.extras ?? {}, creatorUserId: ctx.actor.kind === 'user' ? ctx.actor.user.id : undefined, createdAt: now, modifiedAt: now,
    };
    const normalised = this.normaliseWithSchemas(dataset);
    await this.validateWithSchemas(normalised, undefined, plan?.after ?? [], ctx);
    await this.db.models.Dataset.create(this.toRow(normalised), { transaction: ctx.transaction });
    await this.audit.record({ actor: ctx.actor, action: ctx.action, objectType: 'dataset', objectId: normalised.id, address: ctx.address, details: { name: normalised.name } }, ctx.transaction);
    this.changed(ctx, dataset.id);
    ctx.emit('dataset.created', { dataset: normalised, actor: ctx.actor });
    if (plan) await this.applyResourcePlan(plan, normalised, ctx);
    return normalised;
  }

  /**
   * Changes a dataset. `replace` (package_update) resets fields not given to their
   * defaults, as CKAN does; otherwise (package_patch) only given fields change.
   */
  async update(nameOrId: string, raw: Record<string, unknown>, replace: boolean, ctx: ActionContext): Promise<DatasetRecord> {
    const previous = await this.requireWritable(nameOrId, ctx, raw);
    const fields: FieldErrors = fieldErrors();
    // Free extras (given as an `extras` list) come back at the top level of package_show;
    // take them back there too, so that show -> change -> update works as in CKAN.
    const declared = this.extraFields(previous.type);
    const input = parseDatasetInput(raw, new Set([...declared, ...Object.keys(previous.extras)]), fields, declared);
    const current = await this.resourcesOf(previous.id, ctx.transaction);
    const plan = raw.resources === undefined ? undefined : planInlineResources(raw.resources, current, previous.id, new Date(), fields);
    const resources = plan?.after ?? current;
    if (input.type !== undefined && input.type !== previous.type) (fields.type ??= []).push('the type of a dataset cannot change');
    if (Object.keys(fields).length) throw new ValidationError('dataset is invalid', fields);
    let ownerOrgId = previous.ownerOrgId;
    if (input.ownerOrg !== undefined) {
      const org = await this.organizations.find(input.ownerOrg, ctx.transaction);
      if (!org) throw new ValidationError('dataset is invalid', { owner_org: [`organization "${input.ownerOrg}" does not exist`] });
      if (org.id !== previous.ownerOrgId) await this.permissions.require({ actor: ctx.actor, action: ctx.action, target: { organizationId: org.id }, input: raw }, undefined, ctx.transaction);
      ownerOrgId = org.id;
    }
    if (input.name !== undefined && input.name !== previous.name && (await this.findRow(input.name, ctx.transaction))) {
      throw new ConflictError(`dataset name "${input.name}" is already in use`, { name: ['That URL is already in use.'] });
    }
    const pick = <K extends keyof DatasetInput, V>(given: DatasetInput[K], kept: V, reset: V): V | NonNullable<DatasetInput[K]> =>
      given !== undefined && given !== null ? (given as NonNullable<DatasetInput[K]>) : replace ? reset : kept;
    const dataset: DatasetRecord = this.normaliseWithSchemas({
      ...previous,
      name: input.name ?? previous.name,
      title: pick(input.title, previous.title, input.name ?? previous.name) as string,
      notes: pick(input.notes, previous.notes, '') as string,
      ownerOrgId,
      // Never public by omission: privacy changes only when asked, for update as for patch.
      private: input.private ?? previous.private,
      state: (input.state ?? previous.state) as DatasetRecord['state'],
      licenseId: input.licenseId === null ? undefined : (pick(input.licenseId, previous.licenseId, undefined) as string | undefined),
      tags: pick(input.tags, previous.tags, []) as string[],
      extras: replace ? (input.extras ?? {}) : { ...previous.extras, ...(input.extras ?? {}) },
      modifiedAt: new Date(),
    });
    await this.validateWithSchemas(dataset, previous, resources, ctx);
    await this.db.models.Dataset.update(this.toRow(dataset), { where: { id: dataset.id }, transaction: ctx.transaction });
    await this.audit.record({ actor: ctx.actor, action: ctx.action, objectType: 'dataset', objectId: dataset.id, address: ctx.address, details: { changed: changedFields(previous, dataset) } }, ctx.transaction);
    this.changed(ctx, dataset.id);
    ctx.emit('dataset.updated', { dataset, previous, actor: ctx.actor });
    if (plan) await this.applyResourcePlan(plan, dataset, ctx);
    return dataset;
  }

  /** Writes the resources a package dict listed (see planInlineResources), with an audit event and a lifecycle event for each. */
  private async applyResourcePlan(plan: InlineResourcePlan, dataset: DatasetRecord, ctx: ActionContext): Promise<void> {
    const record = (objectId: string, action: string, details: Record<string, unknown>) =>
      this.audit.record({ actor: ctx.actor, action, objectType: 'resource', objectId, address: ctx.address, details: { dataset: dataset.name, ...details } }, ctx.transaction);
    for (const resource of plan.created) {
      await this.db.models.Resource.create(this.toResourceRow(resource), { transaction: ctx.transaction });
      await record(resource.id, 'resource_create', { name: resource.name, via: ctx.action });
      ctx.emit('resource.created', { resource, dataset, actor: ctx.actor });
    }
    for (const { previous, resource } of plan.updated) {
      await this.db.models.Resource.update(this.toResourceRow(resource), { where: { id: resource.id }, transaction: ctx.transaction });
      await record(resource.id, 'resource_update', { via: ctx.action });
      ctx.emit('resource.updated', { resource, previous, actor: ctx.actor });
    }
    for (const previous of plan.deleted) {
      const resource: ResourceRecord = { ...previous, state: 'deleted', modifiedAt: dataset.modifiedAt };
      await this.db.models.Resource.update({ state: 'deleted', modifiedAt: resource.modifiedAt }, { where: { id: resource.id }, transaction: ctx.transaction });
      await record(resource.id, 'resource_delete', { name: resource.name, via: ctx.action });
      ctx.emit('resource.deleted', { resource, actor: ctx.actor });
    }
  }

  /** Marks a dataset deleted (package_delete); its files stay until purged. */
  async delete(nameOrId: string, ctx: ActionContext): Promise<DatasetRecord> {
    const previous = await this.requireWritable(nameOrId, ctx, {});
    if (previous.state === 'deleted') return previous;
    const dataset: DatasetRecord = { ...previous, state: 'deleted', modifiedAt: new Date() };
    await this.db.models.Dataset.update({ state: 'deleted', modifiedAt: dataset.modifiedAt }, { where: { id: dataset.id }, transaction: ctx.transaction });
    await this.audit.record({ actor: ctx.actor, action: ctx.action, objectType: 'dataset', objectId: dataset.id, address: ctx.address, details: { name: dataset.name } }, ctx.transaction);
    this.changed(ctx, dataset.id);
    ctx.emit('dataset.deleted', { dataset, actor: ctx.actor });
    return dataset;
  }

  /** Finds a resource and its dataset, checking the actor may see them. */
  async showResource(id: string, ctx: ActionContext): Promise<{ resource: ResourceRecord; dataset: DatasetRecord }> {
    const { resource, dataset } = await this.loadResource(id, ctx.transaction);
    await this.requireOnDataset('resource_show', dataset, ctx, {}, id, resource.id);
    return { resource, dataset };
  }

  /** Adds a resource to a dataset (resource_create). Without a URL it waits for an upload. */
  async createResource(raw: Record<string, unknown>, ctx: ActionContext, extra: Partial<ResourceRecord> = {}): Promise<ResourceRecord> {
    const fields: FieldErrors = fieldErrors();
    const input = parseResourceInput(raw, fields);
    if (raw.package_id === undefined || raw.package_id === '') (fields.package_id ??= []).push('Missing value');
    else if (typeof raw.package_id !== 'string') (fields.package_id ??= []).push(`must be a string (the dataset's name or id), not ${raw.package_id === null ? 'null' : Array.isArray(raw.package_id) ? 'a list' : typeof raw.package_id}`);
    if (input.name === undefined) (fields.name ??= []).push('Missing value');
    if (Object.keys(fields).length) throw new ValidationError('resource is invalid', fields);
    const dataset = await this.requireWritable(raw.package_id as string, ctx, raw);
    const existing = await this.resourcesOf(dataset.id, ctx.transaction);
    const now = new Date();
    const resource: ResourceRecord = {
      id: randomUUID(), datasetId: dataset.id, name: input.name!, format: input.format ?? guessFormat(input.name!), description: input.description ?? '',
      url: input.url ?? '', size: undefined, sha256: undefined, depot: undefined, location: undefined,
      state: input.url ? 'active' : 'uploading', metadata: {}, position: Math.max(-1, ...existing.map((r) => r.position)) + 1, createdAt: now, modifiedAt: now, ...extra,
    };
    await this.validateWithSchemas({ ...dataset, modifiedAt: now }, dataset, [...existing, resource], ctx);
    await this.db.models.Resource.create(this.toResourceRow(resource), { transaction: ctx.transaction });
    await this.db.models.Dataset.update({ modifiedAt: now }, { where: { id: dataset.id }, transaction: ctx.transaction });
    await this.audit.record({ actor: ctx.actor, action: ctx.action, objectType: 'resource', objectId: resource.id, address: ctx.address, details: { dataset: dataset.name, name: resource.name } }, ctx.transaction);
    this.changed(ctx, dataset.id);
    ctx.emit('resource.created', { resource, dataset, actor: ctx.actor });
    return resource;
  }

  /** Changes a resource (resource_update replaces, resource_patch merges). */
  async updateResource(id: string, raw: Record<string, unknown>, replace: boolean, ctx: ActionContext): Promise<ResourceRecord> {
    const fields: FieldErrors = fieldErrors();
    const input: ResourceInput = parseResourceInput(raw, fields);
    if (Object.keys(fields).length) throw new ValidationError('resource is invalid', fields);
    const { resource: previous, dataset } = await this.loadResource(id, ctx.transaction);
    await this.requireOnDataset(ctx.action, dataset, ctx, raw, id, previous.id);
    const resource: ResourceRecord = {
      ...previous,
      name: input.name ?? previous.name,
      format: input.format ?? (replace ? guessFormat(input.name ?? previous.name) : previous.format),
      description: input.description ?? (replace ? '' : previous.description),
      url: input.url ?? previous.url,
      modifiedAt: new Date(),
    };
    // A stored file's URL is ours: it follows the name (clients send the shown URL back).
    if (previous.depot) resource.url = this.downloadUrl(resource);
    const others = (await this.resourcesOf(dataset.id, ctx.transaction)).map((r) => (r.id === resource.id ? resource : r));
    await this.validateWithSchemas({ ...dataset, modifiedAt: resource.modifiedAt }, dataset, others, ctx);
    await this.db.models.Resource.update(this.toResourceRow(resource), { where: { id: resource.id }, transaction: ctx.transaction });
    await this.audit.record({ actor: ctx.actor, action: ctx.action, objectType: 'resource', objectId: resource.id, address: ctx.address, details: { dataset: dataset.name } }, ctx.transaction);
    this.changed(ctx, dataset.id);
    ctx.emit('resource.updated', { resource, previous, actor: ctx.actor });
    return resource;
  }

  /** Marks a resource deleted (resource_delete). */
  async deleteResource(id: string, ctx: ActionContext): Promise<ResourceRecord> {
    const { resource: previous, dataset } = await this.loadResource(id, ctx.transaction);
    await this.requireOnDataset(ctx.action, dataset, ctx, {}, id, previous.id);
    const resource: ResourceRecord = { ...previous, state: 'deleted', modifiedAt: new Date() };
    const remaining = (await this.resourcesOf(dataset.id, ctx.transaction)).filter((r) => r.id !== id);
    await this.validateWithSchemas({ ...dataset, modifiedAt: resource.modifiedAt }, dataset, remaining, ctx);
    await this.db.models.Resource.update({ state: 'deleted', modifiedAt: resource.modifiedAt }, { where: { id }, transaction: ctx.transaction });
    await this.audit.record({ actor: ctx.actor, action: ctx.action, objectType: 'resource', objectId: id, address: ctx.address, details: { dataset: dataset.name, name: resource.name } }, ctx.transaction);
    this.changed(ctx, dataset.id);
    ctx.emit('resource.deleted', { resource, actor: ctx.actor });
    return resource;
  }

  /**
   * Records a stored file on a resource (core's resource intake, used by upload protocols):
   * sets depot, location, size, sha256 and the new state, and fires `resource.stored`.
   */
  async recordStoredFile(id: string, stored: { depot: string; location: string; size: number; sha256: string; state?: ResourceRecord['state'] }, ctx: ActionContext): Promise<ResourceRecord> {
    const { resource: previous, dataset } = await this.loadResource(id, ctx.transaction);
    await this.requireOnDataset('resource_update', dataset, ctx, {}, id, previous.id);
    const resource: ResourceRecord = {
      ...previous, depot: stored.depot, location: stored.location, size: stored.size, sha256: stored.sha256, state: stored.state ?? 'validating', modifiedAt: new Date(),
      url: this.downloadUrl(previous),
    };
    await this.db.models.Resource.update(this.toResourceRow(resource), { where: { id }, transaction: ctx.transaction });
    await this.audit.record({ actor: ctx.actor, action: 'resource.stored', objectType: 'resource', objectId: id, address: ctx.address, details: { dataset: dataset.name, size: stored.size, sha256: stored.sha256 } }, ctx.transaction);
    this.changed(ctx, dataset.id);
    ctx.emit('resource.stored', { resource, actor: ctx.actor });
    return resource;
  }

  /** Sets a resource's state and merges metadata (schema checks use this from jobs). */
  async setResourceState(id: string, state: ResourceRecord['state'], metadata: Record<string, unknown>, ctx: ActionContext): Promise<ResourceRecord> {
    const { resource: previous } = await this.loadResource(id, ctx.transaction);
    const resource: ResourceRecord = { ...previous, state, metadata: { ...previous.metadata, ...metadata }, modifiedAt: new Date() };
    await this.db.models.Resource.update({ state, metadata: resource.metadata, modifiedAt: resource.modifiedAt }, { where: { id }, transaction: ctx.transaction });
    await this.audit.record({ actor: ctx.actor, action: 'resource.state', objectType: 'resource', objectId: id, address: ctx.address, details: { state } }, ctx.transaction);
    this.changed(ctx, previous.datasetId);
    ctx.emit('resource.updated', { resource, previous, actor: ctx.actor });
    return resource;
  }

  private async loadResource(id: string, transaction?: Transaction): Promise<{ resource: ResourceRecord; dataset: DatasetRecord }> {
    // Ids are stored in lower case; a UUID means the same in either case (RFC 9562).
    const row = UUID.test(id) ? await this.db.models.Resource.findByPk(id.toLowerCase(), { transaction }) : null;
    if (!row || row.get('state') === 'deleted') throw new NotFoundError(`resource "${id}" not found`);
    const resource = toResourceRecord(row.get({ plain: true }));
    const datasetRow = await this.findRow(resource.datasetId, transaction);
    if (!datasetRow) throw new NotFoundError(`resource "${id}" not found`);
    return { resource, dataset: toDatasetRecord(datasetRow) };
  }

  private async requireWritable(nameOrId: string, ctx: ActionContext, input: Record<string, unknown>): Promise<DatasetRecord> {
    const row = await this.findRow(nameOrId, ctx.transaction);
    if (!row) throw new NotFoundError(`dataset "${nameOrId}" not found`);
    const dataset = toDatasetRecord(row);
    await this.requireOnDataset(ctx.action, dataset, ctx, input, nameOrId);
    return dataset;
  }

  /**
   * Checks that the actor may run `action` on a dataset (or one of its resources).
   * Callers who may not see the dataset get the same NotFoundError as for one that does not
   * exist, worded with the reference they sent, so private names do not leak through
   * package_show, writes or resource ids. A deleted dataset takes no changes at all (only
   * package_delete, which is idempotent).
   */
  private async requireOnDataset(action: string, dataset: DatasetRecord, ctx: ActionContext, input: Record<string, unknown>, reference: string, resourceId?: string): Promise<void> {
    const request = {
      actor: ctx.actor, action,
      target: { organizationId: dataset.ownerOrgId, datasetId: dataset.id, datasetState: dataset.state, datasetPrivate: dataset.private, ...(resourceId ? { resourceId } : {}) },
      input,
    };
    // Built only when thrown: an error captures a stack trace, which every read would pay for.
    const notFound = (): NotFoundError => new NotFoundError(`${resourceId ? 'resource' : 'dataset'} "${reference}" not found`);
    if (action === 'package_show' || action === 'resource_show') {
      if (!(await this.permissions.allows(request, 'visible', ctx.transaction))) throw notFound();
      return;
    }
    if (!(await this.permissions.coreAllows(ctx.actor, 'visible', request.target, ctx.transaction))) throw notFound();
    if (dataset.state === 'deleted' && action !== 'package_delete') throw new NotFoundError(`dataset "${dataset.name}" is deleted; deleted datasets and their resources cannot change`);
    await this.permissions.require(request, undefined, ctx.transaction);
  }

  private normaliseWithSchemas(dataset: DatasetRecord): DatasetRecord {
    return this.schemas.reduce((current, { value }) => (value.normalizeDataset ? value.normalizeDataset(current) : current), dataset);
  }

  private async validateWithSchemas(dataset: DatasetRecord, previous: DatasetRecord | undefined, resources: ResourceRecord[], ctx: ActionContext): Promise<void> {
    const problems: FieldErrors = fieldErrors();
    for (const { value } of this.schemas) {
      if (!value.validateDataset) continue;
      const found = await value.validateDataset({ dataset, resources, action: ctx.action, ...(previous ? { previous } : {}) }, ctx);
      for (const [field, messages] of Object.entries(found)) for (const message of messages) addFieldError(problems, field, message);
    }
    if (Object.keys(problems).length) throw new ValidationError('dataset is invalid', problems);
  }

  private toRow(d: DatasetRecord): DatasetRow {
    return {
      id: d.id, name: d.name, title: d.title, notes: d.notes, type: d.type, ownerOrgId: d.ownerOrgId, private: d.private, state: d.state,
      licenseId: d.licenseId ?? null, tags: d.tags, extras: d.extras, searchText: searchText(d), creatorUserId: d.creatorUserId ?? null,
      createdAt: d.createdAt, modifiedAt: d.modifiedAt,
    };
  }

  private toResourceRow(r: ResourceRecord): ResourceRow {
    return {
      id: r.id, datasetId: r.datasetId, name: r.name, format: r.format, description: r.description, url: r.url, size: r.size ?? null,
      sha256: r.sha256 ?? null, depot: r.depot ?? null, location: r.location ?? null, state: r.state, metadata: r.metadata, position: r.position,
      createdAt: r.createdAt, modifiedAt: r.modifiedAt,
    };
  }
}

function changedFields(before: DatasetRecord, after: DatasetRecord): string[] {
  const keys: Array<keyof DatasetRecord> = ['name', 'title', 'notes', 'ownerOrgId', 'private', 'state', 'licenseId', 'tags', 'extras'];
  return keys.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}
