// The `dc` dataset type (DCOR's rules for deformability cytometry data), as a JSON Schema
// (draft 2020-12) of the fields it adds to core's: authors, DOI and references.

/** JSON Schema of the dc type's own fields; `required` lists what must be given. */
export const dcDatasetSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://platform.invalid/schemas/dataset-dc.json',
  title: 'Deformability cytometry dataset',
  type: 'object',
  required: ['authors'],
  properties: {
    authors: {
      type: 'array',
      minItems: 1,
      maxItems: 500,
      items: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
      description: 'People who made the data, one name each.',
    },
    doi: { type: 'string', maxLength: 200, pattern: '^10\\.\\d{4,9}/\\S+$', description: 'DOI of the publication, e.g. 10.1038/nmeth.3281 (https://doi.org/ links are accepted and shortened).' },
    references: {
      type: 'array',
      maxItems: 100,
      items: { type: 'string', format: 'uri', maxLength: 500 },
      description: 'Links to related work; "doi:10..." and bare DOIs become https://doi.org/ links.',
    },
  },
} as const;

/** DCOR's licenses, from most to least restrictive. */
export const DEFAULT_LICENSES = ['CC-BY-NC-SA-4.0', 'CC-BY-NC-4.0', 'CC-BY-SA-4.0', 'CC-BY-4.0', 'CC0-1.0'];

/** File extensions a dc dataset's resources may have. */
export const DEFAULT_EXTENSIONS = ['rtdc', 'csv', 'tsv', 'txt', 'ini', 'json', 'pdf', 'png', 'jpg', 'jpeg', 'tif', 'tiff', 'zip', 'hdf5', 'h5', 'poly', 'sof', 'md'];
