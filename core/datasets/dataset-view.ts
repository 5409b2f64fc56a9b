// CKAN-shaped dicts of datasets and resources, as the action API returns them.
import type { DatasetRecord, ResourceRecord } from './dataset-types.js';

/** The organisation summary embedded in a package dict. */
export interface OrganizationSummary {
  id: string;
  name: string;
  title: string;
}

/** A resource as the API shows it; schema metadata appears beside core's fields. */
export function resourceDict(resource: ResourceRecord): Record<string, unknown> {
  return {
    ...resource.metadata,
    id: resource.id,
    package_id: resource.datasetId,
    name: resource.name,
    format: resource.format,
    description: resource.description,
    url: resource.url,
    // CKAN: "upload" for files the site stores (url is then its download URL), else a link.
    url_type: resource.depot || resource.state === 'uploading' ? 'upload' : null,
    size: resource.size ?? null,
    sha256: resource.sha256 ?? null,
    state: resource.state,
    position: resource.position,
    created: resource.createdAt.toISOString(),
    last_modified: resource.modifiedAt.toISOString(),
  };
}

/**
 * A package dict. Extras appear twice, as clients of both kinds read them: as CKAN's list of
 * `{key, value}` (sorted by key; values as stored, which CKAN's default type keeps as
 * strings) and at the top level, as ckanext-scheming shows a type's own fields.
 */
export function datasetDict(dataset: DatasetRecord, resources: ResourceRecord[], organization: OrganizationSummary | undefined): Record<string, unknown> {
  return {
    ...dataset.extras,
    id: dataset.id,
    name: dataset.name,
    title: dataset.title,
    notes: dataset.notes,
    type: dataset.type,
    owner_org: dataset.ownerOrgId,
    organization: organization ?? null,
    private: dataset.private,
    state: dataset.state,
    license_id: dataset.licenseId ?? null,
    tags: dataset.tags.map((name) => ({ name })),
    num_tags: dataset.tags.length,
    creator_user_id: dataset.creatorUserId ?? null,
    metadata_created: dataset.createdAt.toISOString(),
    metadata_modified: dataset.modifiedAt.toISOString(),
    extras: Object.keys(dataset.extras).sort().map((key) => ({ key, value: dataset.extras[key] })),
    resources: resources.map(resourceDict),
    num_resources: resources.length,
  };
}
