// Plain shapes of datasets and resources as core hands them to plugins and API clients.

export type DatasetState = 'draft' | 'active' | 'deleted';
export type ResourceState = 'uploading' | 'validating' | 'active' | 'invalid' | 'deleted';

/** A dataset as stored. */
export interface DatasetRecord {
  id: string;
  name: string;
  title: string;
  notes: string;
  type: string;
  ownerOrgId: string;
  private: boolean;
  state: DatasetState;
  licenseId: string | undefined;
  tags: string[];
  /** Type-specific metadata (e.g. `authors`). */
  extras: Record<string, unknown>;
  creatorUserId: string | undefined;
  createdAt: Date;
  modifiedAt: Date;
}

/** A resource (file) of a dataset, as stored. */
export interface ResourceRecord {
  id: string;
  datasetId: string;
  name: string;
  format: string;
  description: string;
  url: string;
  size: number | undefined;
  sha256: string | undefined;
  depot: string | undefined;
  location: string | undefined;
  state: ResourceState;
  metadata: Record<string, unknown>;
  position: number;
  createdAt: Date;
  modifiedAt: Date;
}
