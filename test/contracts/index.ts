// The contract suites, for plugins to run over their own implementations: the package's
// `testing` entry (`import { runDepotContract } from 'platform-host/testing'`). Each registers a
// node:test `describe` block; see docs/plugins.md.
export { runDepotContract, type DepotContractOptions } from './depot.js';
export { runAnonymiserContract, type AnonymiserContractOptions, type AnonymiserContractSubject, type AnonymiserSampleFile } from './anonymiser.js';
export { runUploadProtocolContract, type UploadProtocolContractOptions, type UploadProtocolContractSubject, type UploadedFile, type RequestHandler } from './upload-protocol.js';
export { runSchemaContract, sampleDataset, sampleResource, type SchemaContractOptions, type SchemaContractSubject, type SchemaSampleFile } from './schema.js';
export { runFileCheckContract, type FileCheckContractOptions, type FileCheckContractSubject, type FileCheckSample } from './file-check.js';
export { runDeliveryTargetContract, type DeliveryTargetContractOptions, type DestinationUnderTest, type DestinationFile, type DestinationCopy } from './delivery-target.js';
export { runActionContract, type ActionContractOptions, type ActionContractSubject, type ActionApp } from './actions.js';
