// Scatter plots of RT-DC event samples on a canvas: a few hundred lines at most, no charting
// library. Each figure asks the rtdc_event_sample action for the two chosen features and
// draws every event as a small square, with the axis ranges written at the edges.
export {};

interface SampleAnswer {
  success: boolean;
  result?: { total_events: number; count: number; events: Record<string, number[]> };
  error?: { message: string };
}

const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
const MARGIN = { left: 64, right: 16, top: 16, bottom: 48 };

function tick(value: number): string {
  return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : String(Number(value.toPrecision(4)));
}

function range(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

/** Draws the points; returns how many landed on the canvas. */
function draw(canvas: HTMLCanvasElement, xs: number[], ys: number[], xName: string, yName: string): number {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  if (!g) return 0;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);
  const [x0, x1] = range(xs);
  const [y0, y1] = range(ys);
  const w = width - MARGIN.left - MARGIN.right;
  const h = height - MARGIN.top - MARGIN.bottom;
  g.strokeStyle = '#4a5563';
  g.strokeRect(MARGIN.left, MARGIN.top, w, h);
  g.fillStyle = '#1b1f24';
  g.font = '12px system-ui, sans-serif';
  g.textAlign = 'left';
  g.fillText(tick(x0), MARGIN.left, height - MARGIN.bottom + 16);
  g.textAlign = 'right';
  g.fillText(tick(x1), MARGIN.left + w, height - MARGIN.bottom + 16);
  g.textAlign = 'center';
  g.fillText(xName, MARGIN.left + w / 2, height - 12);
  g.textAlign = 'right';
  g.fillText(tick(y1), MARGIN.left - 6, MARGIN.top + 12);
  g.fillText(tick(y0), MARGIN.left - 6, MARGIN.top + h);
  g.save();
  g.translate(16, MARGIN.top + h / 2);
  g.rotate(-Math.PI / 2);
  g.textAlign = 'center';
  g.fillText(yName, 0, 0);
  g.restore();
  g.fillStyle = 'rgba(11, 87, 164, 0.6)';
  const size = xs.length > 20_000 ? 1.5 : 3;
  let drawn = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    g.fillRect(MARGIN.left + ((x - x0) / (x1 - x0)) * w - size / 2, MARGIN.top + h - ((y - y0) / (y1 - y0)) * h - size / 2, size, size);
    drawn++;
  }
  return drawn;
}

async function plot(figure: HTMLElement): Promise<void> {
  const canvas = figure.querySelector<HTMLCanvasElement>('canvas.plot');
  const status = figure.querySelector<HTMLElement>('.plot-status');
  const xSelect = figure.querySelector<HTMLSelectElement>('select.axis-x');
  const ySelect = figure.querySelector<HTMLSelectElement>('select.axis-y');
  if (!canvas || !status || !xSelect || !ySelect) return;
  const xName = xSelect.value;
  const yName = ySelect.value;
  status.textContent = 'Loading events…';
  try {
    const response = await fetch('/api/3/action/rtdc_event_sample', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ id: figure.dataset.resource, features: [...new Set([xName, yName])], limit: 5000 }),
    });
    const answer = (await response.json()) as SampleAnswer;
    if (!answer.success || !answer.result) throw new Error(answer.error?.message ?? `the server answered ${response.status}`);
    const xs = answer.result.events[xName] ?? [];
    const ys = answer.result.events[yName] ?? [];
    const drawn = draw(canvas, xs, ys, xName, yName);
    canvas.dataset.drawn = String(drawn);
    canvas.setAttribute('aria-label', `Scatter plot of ${drawn} events: ${xName} against ${yName}`);
    status.textContent = `${drawn} of ${answer.result.total_events} events shown.`;
  } catch (error) {
    status.textContent = `The plot cannot be drawn: ${(error as Error).message}`;
  }
}

for (const figure of Array.from(document.querySelectorAll<HTMLElement>('figure.rtdc-view'))) {
  for (const select of Array.from(figure.querySelectorAll('select'))) select.addEventListener('change', () => void plot(figure));
  void plot(figure);
}
