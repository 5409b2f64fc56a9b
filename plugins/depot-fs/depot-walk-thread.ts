// A walk thread of depot-fs: walks the top-level directories it is given, posting the
// objects of each as soon as that directory is done, then `{ done: true }`.
import { parentPort, workerData } from 'node:worker_threads';
import { walkTopLevel, type WalkedObject } from './depot-walk.js';

/** What the thread is given. */
export interface WalkThreadData {
  resources: string;
  names: string[];
}

/** What the thread posts. */
export type WalkThreadMessage = { objects: WalkedObject[] } | { done: true };

const { resources, names } = workerData as WalkThreadData;
for (const name of names) parentPort!.postMessage({ objects: walkTopLevel(resources, name) } satisfies WalkThreadMessage);
parentPort!.postMessage({ done: true } satisfies WalkThreadMessage);
