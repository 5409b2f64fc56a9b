// The jobs benchmark's plugin: a no-op handler and one that reports when it started.
import { definePlugin, type PluginDefinition } from '../../core/plugins/define-plugin.js';
import { JobHandlers } from '../../core/plugins/hooks/job-handlers.js';

export const NOOP = 'bench-noop';
export const LATENCY = 'bench-latency';

/** The plugin, named `bench-jobs`; the callbacks see each run. */
export function benchJobsPlugin(onNoop: () => void = () => undefined, onLatency: (payload: Record<string, unknown>) => void = () => undefined): PluginDefinition {
  return definePlugin({
    name: 'bench-jobs',
    version: '1.0.0',
    register(ctx) {
      ctx.contribute(JobHandlers, { type: NOOP, payloadSchema: { type: 'object' }, run: async () => void onNoop() });
      ctx.contribute(JobHandlers, { type: LATENCY, payloadSchema: { type: 'object' }, run: async (payload) => void onLatency(payload) });
    },
  });
}
