// Reading datasets as package dicts need them: each dataset row with its organisation
// summary and its resources in one round trip, for package_show (one dataset) and
// package_search (one page). Also the row-to-record conversions every dataset read uses.
import type { DatasetRow, ResourceRow } from '../db/core-models.js';
import type { DatasetRecord, ResourceRecord } from './dataset-types.js';
import type { OrganizationSummary } from './dataset-view.js';
import { toDate } from '../db/row-values.js';

/** Columns of datasets under the row type's names, for plain SQL reads. */
export const DATASET_COLUMNS = 'id, name, title, notes, type, owner_org_id AS "ownerOrgId", private, state, license_id AS "licenseId", tags, extras, search_text AS "searchText", creator_user_id AS "creatorUserId", created_at AS "createdAt", modified_at AS "modifiedAt"';
/** Columns of resources under the row type's names, for plain SQL reads. */
export const RESOURCE_COLUMNS = 'id, dataset_id AS "datasetId", name, format, description, url, size, sha256, depot, location, state, metadata, position, created_at AS "createdAt", modified_at AS "modifiedAt"';

/** Resource row fields and their columns, for JSON-built resource lists. */
const RESOURCE_FIELDS: ReadonlyArray<readonly [keyof ResourceRow, string]> = [
  ['id', 'id'], ['datasetId', 'dataset_id'], ['name', 'name'], ['format', 'format'], ['description', 'description'], ['url', 'url'], ['size', 'size'],
  ['sha256', 'sha256'], ['depot', 'depot'], ['location', 'location'], ['state', 'state'], ['metadata', 'metadata'], ['position', 'position'],
  ['createdAt', 'created_at'], ['modifiedAt', 'modified_at'],
];

/** A dataset row as the joined read returns it. */
export type DatasetReadRow = DatasetRow & {
  orgName: string | null;
  orgTitle: string | null;
  /** The dataset's resources as a JSON list of rows (text on SQLite). */
  resourceList: ResourceRow[] | string;
};

/** A dataset with what its package dict shows. */
export interface DatasetRead {
  dataset: DatasetRecord;
  /** Resources in position order, deleted ones left out. */
  resources: ResourceRecord[];
  /** The owning organisation, unless it is no longer active. */
  organization: OrganizationSummary | undefined;
}

/**
 * SQL reading the datasets that `inner` selects (it must select `d.*`-style raw columns of
 * `datasets d`, already filtered, sorted and limited) with their organisation and resources.
 * @param dialect the database's dialect
 * @param inner a SELECT over `datasets d` returning at least every dataset column
 * @param order the ORDER BY of `inner` written over `p.` (the outer query must keep it)
 */
export function datasetReadSql(dialect: 'sqlite' | 'postgres', inner: string, order?: string): string {
  const columns = DATASET_COLUMNS.split(', ').map((column) => `p.${column}`).join(', ');
  if (dialect === 'postgres') {
    // Each resource row as JSON through row_to_json of aliased columns, and the organisation
    // by its key (LATERAL ... LIMIT 1, so the planner does not hash the whole table for one
    // row): PostgreSQL answers this in about 80% of the time of json_build_object and a join.
    const aliased = RESOURCE_FIELDS.map(([alias, column]) => `${column} AS "${alias}"`).join(', ');
    const resources = `(SELECT COALESCE(json_agg(r), '[]'::json) FROM (SELECT ${aliased} FROM resources WHERE dataset_id = p.id ORDER BY position ASC, created_at ASC) r)`;
    return `SELECT ${columns}, o.name AS "orgName", o.title AS "orgTitle", ${resources} AS "resourceList"
    FROM (${inner}) p LEFT JOIN LATERAL (SELECT name, title FROM organizations WHERE id = p.owner_org_id AND state = 'active' LIMIT 1) o ON true${order ? ` ORDER BY ${order}` : ''}`;
  }
  const fields = RESOURCE_FIELDS.map(([alias, column]) => `'${alias}', ${column === 'metadata' ? 'json(metadata)' : column}`).join(', ');
  const resources = `(SELECT json_group_array(json_object(${fields})) FROM (SELECT * FROM resources WHERE dataset_id = p.id ORDER BY position ASC, created_at ASC))`;
  return `SELECT ${columns}, o.name AS "orgName", o.title AS "orgTitle", ${resources} AS "resourceList"
    FROM (${inner}) p LEFT JOIN organizations o ON o.id = p.owner_org_id AND o.state = 'active'${order ? ` ORDER BY ${order}` : ''}`;
}

/** Converts a joined row (see datasetReadSql). */
export function toDatasetRead(row: DatasetReadRow): DatasetRead {
  const dataset = toDatasetRecord(row);
  const resources = parseJson<ResourceRow[]>(row.resourceList, []).map(toResourceRecord).filter((r) => r.state !== 'deleted');
  const organization = row.orgName === null ? undefined : { id: dataset.ownerOrgId, name: row.orgName, title: row.orgTitle ?? '' };
  return { dataset, resources, organization };
}

/** Converts a row to the record plugins see. */
export function toDatasetRecord(row: DatasetRow): DatasetRecord {
  return {
    id: row.id, name: row.name, title: row.title, notes: row.notes, type: row.type, ownerOrgId: row.ownerOrgId,
    private: Boolean(row.private), state: row.state, licenseId: row.licenseId ?? undefined,
    tags: parseJson<string[]>(row.tags, []), extras: parseJson<Record<string, unknown>>(row.extras, {}),
    creatorUserId: row.creatorUserId ?? undefined, createdAt: toDate(row.createdAt), modifiedAt: toDate(row.modifiedAt),
  };
}

/** Converts a row to the record plugins see. */
export function toResourceRecord(row: ResourceRow): ResourceRecord {
  return {
    id: row.id, datasetId: row.datasetId, name: row.name, format: row.format, description: row.description, url: row.url,
    size: row.size === null ? undefined : Number(row.size), sha256: row.sha256 ?? undefined, depot: row.depot ?? undefined,
    location: row.location ?? undefined, state: row.state, metadata: parseJson<Record<string, unknown>>(row.metadata, {}),
    position: row.position, createdAt: toDate(row.createdAt), modifiedAt: toDate(row.modifiedAt),
  };
}

function parseJson<T>(value: unknown, fallback: T): T {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as T;
    } catch {
      return fallback;
    }
  }
  return (value ?? fallback) as T;
}
