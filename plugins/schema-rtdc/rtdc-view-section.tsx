// The RT-DC view on a dataset page: for each checked .rtdc file, a scatter plot of two scalar
// features the viewer chooses (area against deformation by default), drawn in the browser on
// a canvas from the event sample the `rtdc_event_sample` action answers, with the feature
// statistics the inspection stored beside it.
import { fileURLToPath } from 'node:url';
import type { DatasetSection, DatasetSectionInput, WebKit } from '../../core/api.js';

/** Per-feature statistics as the inspection stores them in `dc:statistics`. */
type FeatureStatistics = Record<string, { count: number; min?: number; max?: number; mean?: number }>;

/** The default axes, as dclab and Shape-Out open a measurement. */
const DEFAULT_X = 'area_um';
const DEFAULT_Y = 'deform';

function format(value: number | undefined): string {
  if (value === undefined) return '—';
  return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

/** The section; `pluginName` names the plugin in asset URLs. */
export function rtdcViewSection(pluginName: string): DatasetSection {
  return {
    name: 'rtdc-view',
    order: 50,
    assets: { 'rtdc-plot.js': fileURLToPath(new URL('../../browser/plugins/schema-rtdc/browser/rtdc-plot.js', import.meta.url)) },
    scripts: (kit: WebKit) => [kit.assetUrl(pluginName, 'rtdc-plot.js')],
    render({ dataset }: DatasetSectionInput) {
      const files = dataset.resources.filter((r) => r.state === 'active' && r.name.toLowerCase().endsWith('.rtdc') && r['dc:statistics'] && typeof r['dc:statistics'] === 'object');
      if (!files.length) return undefined;
      return (
        <div>
          <h2>RT-DC view</h2>
          {files.map((r) => {
            const stats = r['dc:statistics'] as FeatureStatistics;
            const features = Object.keys(stats).filter((f) => stats[f]!.count > 0).sort();
            const x = features.includes(DEFAULT_X) ? DEFAULT_X : features[0];
            const y = features.includes(DEFAULT_Y) ? DEFAULT_Y : features.find((f) => f !== x);
            const id = `rtdc-${r.id}`;
            return (
              <figure class="rtdc-view" data-resource={r.id} data-x={x ?? ''} data-y={y ?? ''}>
                <figcaption>{r.name}: {String(r['dc:experiment:event count'] ?? '?')} events</figcaption>
                <div class="plot-controls">
                  <label for={`${id}-x`}>Horizontal axis <select id={`${id}-x`} class="axis-x">{features.map((f) => <option value={f} selected={f === x}>{f}</option>)}</select></label>
                  <label for={`${id}-y`}>Vertical axis <select id={`${id}-y`} class="axis-y">{features.map((f) => <option value={f} selected={f === y}>{f}</option>)}</select></label>
                </div>
                <canvas class="plot" width={640} height={480} role="img" aria-label={`Scatter plot of ${x} against ${y}`}></canvas>
                <p class="plot-status muted" role="status"></p>
                <table>
                  <caption>Feature statistics</caption>
                  <thead><tr><th scope="col">Feature</th><th scope="col">Events</th><th scope="col">Min</th><th scope="col">Mean</th><th scope="col">Max</th></tr></thead>
                  <tbody>{features.map((f) => <tr><th scope="row">{f}</th><td>{stats[f]!.count}</td><td>{format(stats[f]!.min)}</td><td>{format(stats[f]!.mean)}</td><td>{format(stats[f]!.max)}</td></tr>)}</tbody>
                </table>
              </figure>
            );
          })}
        </div>
      );
    },
  };
}
