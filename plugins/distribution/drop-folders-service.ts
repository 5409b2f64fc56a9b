// The service through which drop folders are watched: the distribution-folders plugin, which
// owns `[plugin:distribution-folders]`, asks for its folder to be watched; files there are
// taken into distribution. Plugins never import each other: the service is looked up in the
// container by `Symbol.for('platform.DistributionDropFolders')`, and its shape is this
// interface (mirrored in plugins/distribution-folders/drop-folders-client.ts).

/** Watches drop folders for the distribution plugin's intake. */
export interface DistributionDropFolders {
  /**
   * Watches `dir` (created if missing): files there at start and files that arrive later are
   * moved into distribution once stable. Watching a folder that is already watched is refused.
   * @param options.stableMs unchanged this long before a file is taken.
   * @param options.scanMs interval of the rescan that catches missed change notifications.
   * @param options.owner who asked (a plugin's name), for the log.
   * @returns stops watching it.
   * @throws Error when the folder is already watched.
   */
  watch(dir: string, options: { stableMs: number; scanMs: number; owner: string }): Promise<{ dispose(): Promise<void> }>;
}

/** Its service identifier. */
export const DistributionDropFoldersId = Symbol.for('platform.DistributionDropFolders');
