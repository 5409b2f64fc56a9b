// How this plugin reaches the distribution plugin without importing it: the service that
// plugin binds in the container under `Symbol.for('platform.DistributionDropFolders')`. The
// interface mirrors plugins/distribution/drop-folders-service.ts (a contract by shape).
import type { Services } from '../../core/api.js';

/** The distribution plugin's drop-folder service, as this plugin uses it. */
export interface DistributionDropFolders {
  /** Watches `dir`; files there are moved into distribution once stable. @returns stops watching. */
  watch(dir: string, options: { stableMs: number; scanMs: number; owner: string }): Promise<{ dispose(): Promise<void> }>;
}

const DistributionDropFoldersId = Symbol.for('platform.DistributionDropFolders');

/**
 * The service, once the host has started.
 * @throws Error when the distribution plugin did not bind it (it is not enabled).
 */
export function dropFoldersService(services: Services): DistributionDropFolders {
  try {
    return services.get<DistributionDropFolders>(DistributionDropFoldersId);
  } catch {
    throw new Error('the distribution plugin is not enabled, or too old to watch drop folders; add "distribution" to [platform] plugins');
  }
}
