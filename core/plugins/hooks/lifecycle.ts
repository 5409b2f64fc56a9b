// Lifecycle: plugin start/stop, and observers of what happens to datasets and uploads.
import { hookId } from '../hook-id.js';
import type { Services } from '../../services/services.js';
import type { Actor } from '../../auth/actor.js';
import type { DatasetRecord, ResourceRecord } from '../../datasets/dataset-types.js';

/**
 * A plugin's life in the host. Dispatch: **all in plugin order** for `initialize` and
 * `onStart`, **reverse order** for `onStop`; each is awaited, and a failure names the plugin.
 */
export interface PluginLifecycle {
  /** After every plugin registered and the database is ready, before serving. */
  initialize?(services: Services): Promise<void> | void;
  /** When `platform serve` (or a worker) starts. */
  onStart?(services: Services): Promise<void> | void;
  /** At shutdown. */
  onStop?(): Promise<void> | void;
}

/** Service identifier of the {@link PluginLifecycle} hook. */
export const Lifecycle = hookId<PluginLifecycle>('Lifecycle');

/** Payloads of lifecycle events. */
export interface PlatformEvents {
  'dataset.created': { dataset: DatasetRecord; actor: Actor };
  'dataset.updated': { dataset: DatasetRecord; previous: DatasetRecord; actor: Actor };
  'dataset.deleted': { dataset: DatasetRecord; actor: Actor };
  'resource.created': { resource: ResourceRecord; dataset: DatasetRecord; actor: Actor };
  'resource.updated': { resource: ResourceRecord; previous: ResourceRecord; actor: Actor };
  'resource.deleted': { resource: ResourceRecord; actor: Actor };
  /** A file was stored in a depot and recorded on its resource. */
  'resource.stored': { resource: ResourceRecord; actor: Actor };
  /** An upload protocol finished receiving a file. */
  'upload.completed': { protocol: string; resource: ResourceRecord; actor: Actor };
  'organization.created': { organization: { id: string; name: string }; actor: Actor };
  'user.created': { user: { id: string; name: string }; actor: Actor };
}

export type PlatformEventName = keyof PlatformEvents;

/** Handlers per event name; each receives the event after its transaction committed. */
export type EventHandlers = { [K in PlatformEventName]?: (payload: PlatformEvents[K]) => Promise<void> | void };

/**
 * Observes lifecycle events (`onDid*`). Dispatch: **observers**: called after commit in
 * plugin order; they cannot change the outcome, and a failing observer is logged with its
 * plugin's name without stopping the others.
 *
 * @example
 * ctx.contribute(EventObserver, { on: { 'dataset.created': ({ dataset }) => index(dataset) } });
 */
export interface EventObserver {
  readonly on: EventHandlers;
}

/** Service identifier of the {@link EventObserver} hook. */
export const EventObserver = hookId<EventObserver>('EventObserver');
