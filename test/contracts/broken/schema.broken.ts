// A deliberately broken schema, run by contract-failures.test.ts to show that the Schema
// contract catches it: normalising trims the title of the dataset it was given (in place), and
// validation throws instead of answering with field messages; inspection calls every file valid.
import { ValidationError, type Schema } from '../../../core/api.js';
import { runSchemaContract, sampleDataset } from '../schema.js';

const careless: Schema = {
  name: 'careless',
  normalizeDataset(dataset) {
    dataset.title = dataset.title.trim();
    return dataset;
  },
  validateDataset({ dataset }) {
    if (!dataset.extras.authors) throw new ValidationError('authors missing');
    return {};
  },
  async inspectResource(resource) {
    return resource.name.endsWith('.dat') ? { metadata: { events: Number.NaN }, problems: [] } : undefined;
  },
};

runSchemaContract({
  name: 'careless',
  make: async () => ({
    schema: careless,
    validDatasets: [{ action: 'package_create', dataset: sampleDataset({ title: ' Spaced ', extras: { authors: ['A'] } }), resources: [] }],
    invalidDatasets: [{ input: { action: 'package_create', dataset: sampleDataset(), resources: [] }, fields: ['authors'] }],
    validFiles: [{ name: 'good.dat', content: Buffer.from('good') }],
    invalidFiles: [{ name: 'bad.dat', content: Buffer.from('bad') }],
  }),
});
