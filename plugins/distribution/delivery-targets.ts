// Builds each destination's transport from its declaration in the rules file (reading the
// secret and certificate files it names).
import { readFileSync } from 'node:fs';
import { readAccessTokenFile, type Services } from '../../core/api.js';
import type { DeliveryTarget } from './delivery-target.js';
import type { DestinationConfig } from './rules-file.js';
import { LocalFolderTarget } from './local-folder-target.js';
import { WebDavTarget, authorizationFromFiles } from './webdav-target.js';
import { DatasetTarget } from './dataset-target.js';
import { PlatformInstanceTarget, type PlatformCredentials } from './platform-instance-target.js';

/** The transport of a destination. @throws Error when a file it names cannot be read. */
export function createDeliveryTarget(d: DestinationConfig, options: { connections: number; services: () => Services }): DeliveryTarget {
  const pem = (file: string | undefined) => (file ? { certificatePem: readFileSync(file, 'utf8') } : {});
  switch (d.kind) {
    case 'folder':
      return new LocalFolderTarget(d.name, d.path);
    case 'dataset':
      return new DatasetTarget(d.name, d.dataset, options.services);
    case 'platform': {
      const common = { url: d.url, dataset: d.dataset, ...(d.chunkBytes ? { chunkBytes: d.chunkBytes } : {}) };
      if ('accessToken' in d) return new PlatformInstanceTarget(d.name, { ...common, credentials: accessTokenCredentials(d.accessToken.file, d.accessToken.passwordFile) });
      return new PlatformInstanceTarget(d.name, { ...common, credentials: async () => ({ token: readFileSync(d.tokenFile, 'utf8').trim(), ...pem(d.certFile) }) });
    }
    case 'webdav': {
      const authorization = authorizationFromFiles(d);
      return new WebDavTarget(d.name, { url: d.url, ...pem(d.certFile), ...(authorization ? { authorization } : {}), verify: d.verify, connections: options.connections });
    }
  }
}

/** Credentials from a `.dcor-access` file: its API key, and its certificate pinned. Opened when first needed. */
function accessTokenCredentials(file: string, passwordFile: string): () => Promise<PlatformCredentials> {
  return async () => {
    const contents = await readAccessTokenFile(readFileSync(file), readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, ''));
    return { token: contents.apiKey, certificatePem: contents.certificatePem };
  };
}
