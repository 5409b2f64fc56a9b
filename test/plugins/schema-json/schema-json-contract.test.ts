// schema-json keeps the Schema contract, with the dc type's rules as DCOR states them
// (ckanext-dc_serve / dcor_schemas: authors required, a licence from DCOR's list, resource
// names of letters, digits and . , - _ + ( ) [ ] with an allowed extension).
import { JsonDatasetSchema } from '../../../plugins/schema-json/json-dataset-schema.js';
import { loadDatasetTypeSchemas } from '../../../plugins/schema-json/dataset-type-schemas.js';
import { DEFAULT_EXTENSIONS, DEFAULT_LICENSES } from '../../../plugins/schema-json/dc-dataset-schema.js';
import { runSchemaContract, sampleDataset, sampleResource } from '../../contracts/schema.js';

runSchemaContract({
  name: 'schema-json',
  async make() {
    const schema = new JsonDatasetSchema(loadDatasetTypeSchemas(undefined), { licenses: DEFAULT_LICENSES, extensions: DEFAULT_EXTENSIONS, lifecycle: true });
    const dc = sampleDataset({ name: 'beads', type: 'dc', licenseId: 'CC-BY-4.0', extras: { authors: ['Ada Lovelace'], doi: 'https://doi.org/10.1038/nmeth.3281' } });
    return {
      schema,
      types: ['dc'],
      validDatasets: [
        { action: 'package_create', dataset: dc, resources: [] },
        { action: 'package_update', dataset: { ...dc, notes: 'More words.' }, previous: dc, resources: [sampleResource({ name: 'calibration_beads.rtdc', datasetId: dc.id })] },
      ],
      invalidDatasets: [
        { input: { action: 'package_create', dataset: { ...dc, name: 'no-authors', extras: {}, licenseId: 'proprietary' }, resources: [] }, fields: ['authors', 'license_id'] },
        { input: { action: 'package_create', dataset: { ...dc, name: 'bad-files' }, resources: [sampleResource({ name: 'a/b.rtdc' }), sampleResource({ name: 'run.exe' })] }, fields: ['resources'] },
      ],
    };
  },
});
