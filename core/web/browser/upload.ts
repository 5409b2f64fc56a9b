// The upload page's script: sends each chosen file to the tus endpoint with tus-js-client
// (loaded before this module as window.tus), resumes an upload the browser started before
// (tus-js-client keeps its URL in localStorage, keyed by the file), and polls the dataset
// until every file's check has a verdict.
export {};

interface TusUpload {
  start(): void;
  abort(): Promise<void>;
  findPreviousUploads(): Promise<unknown[]>;
  resumeFromPreviousUpload(previous: unknown): void;
}
interface TusOptions {
  endpoint: string;
  chunkSize: number;
  retryDelays: number[];
  metadata: Record<string, string>;
  headers: Record<string, string>;
  removeFingerprintOnSuccess: boolean;
  onProgress(sent: number, total: number): void;
  onSuccess(): void;
  onError(error: Error): void;
}
declare global {
  interface Window { tus?: { Upload: new (file: File, options: TusOptions) => TusUpload; isSupported: boolean } }
}

interface ResourceView { id: string; name: string; state: string; 'platform:problems'?: string[] }

const root = document.getElementById('uploader');
const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
if (root && window.tus) {
  const tus = window.tus;
  const datasetId = root.dataset.dataset ?? '';
  const endpoint = root.dataset.endpoint ?? '/upload/tus/';
  const chunkSize = Number(root.dataset.chunkBytes ?? 8 * 1024 * 1024);
  const input = document.getElementById('files') as HTMLInputElement;
  const list = document.getElementById('upload-list') as HTMLUListElement;
  const states = document.getElementById('resource-states') as HTMLTableSectionElement;
  const verdict = document.getElementById('verdict') as HTMLParagraphElement;
  const activate = document.getElementById('activate') as HTMLButtonElement;
  let running = 0;

  const startFile = async (file: File): Promise<void> => {
    const item = document.createElement('li');
    const label = document.createElement('label');
    const bar = document.createElement('progress');
    const status = document.createElement('span');
    const id = `progress-${list.children.length}`;
    bar.id = id;
    bar.max = 100;
    bar.value = 0;
    label.htmlFor = id;
    label.textContent = file.name;
    status.className = 'muted upload-status';
    item.dataset.name = file.name;
    item.append(label, bar, status);
    list.append(item);
    running++;
    activate.disabled = true;
    const upload = new tus.Upload(file, {
      endpoint, chunkSize, retryDelays: [0, 1000, 3000, 5000],
      metadata: { filename: file.name, package_id: datasetId },
      headers: { 'X-CSRF-Token': csrf },
      removeFingerprintOnSuccess: true,
      onProgress(sent, total) {
        bar.value = total ? Math.floor((sent / total) * 100) : 0;
        status.textContent = ` ${bar.value}%`;
      },
      onSuccess() {
        bar.value = 100;
        status.textContent = ' uploaded; being checked';
        item.dataset.done = 'true';
        running--;
        void poll();
      },
      onError(error) {
        status.textContent = ` failed: ${error.message}`;
        item.dataset.failed = 'true';
        running--;
      },
    });
    const previous = await upload.findPreviousUploads();
    if (previous.length > 0) {
      upload.resumeFromPreviousUpload(previous[0]);
      status.textContent = ' resuming';
      item.dataset.resumed = 'true';
    }
    upload.start();
  };

  document.getElementById('start-upload')?.addEventListener('click', () => {
    for (const file of Array.from(input.files ?? [])) void startFile(file);
  });

  const render = (resources: ResourceView[]): void => {
    states.replaceChildren(...resources.map((r) => {
      const row = document.createElement('tr');
      row.dataset.resource = r.id;
      const name = document.createElement('td');
      name.textContent = r.name;
      const state = document.createElement('td');
      state.className = `state-${r.state}`;
      const problems = r['platform:problems'] ?? [];
      state.textContent = problems.length ? `${r.state}: ${problems.join('; ')}` : r.state;
      row.append(name, state);
      return row;
    }));
    // An uploaded file's line says what its check found, once it has.
    for (const item of Array.from(list.querySelectorAll<HTMLLIElement>('li[data-done="true"]'))) {
      const resource = resources.find((r) => r.name === item.dataset.name);
      const status = item.querySelector('.upload-status');
      if (resource && status && (resource.state === 'active' || resource.state === 'invalid')) status.textContent = resource.state === 'active' ? ' uploaded; checked and valid' : ' uploaded; invalid (see below)';
    }
    const pending = resources.filter((r) => r.state === 'uploading' || r.state === 'validating').length;
    const invalid = resources.filter((r) => r.state === 'invalid').length;
    const ready = resources.length > 0 && resources.every((r) => r.state === 'active');
    verdict.textContent = !resources.length ? '' : invalid ? `${invalid} file(s) are invalid; remove or replace them before activating.` : pending ? `${pending} file(s) still being uploaded or checked.` : 'Every file passed its checks.';
    activate.disabled = !(ready && running === 0);
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    try {
      const response = await fetch(`/api/3/action/package_show?id=${encodeURIComponent(datasetId)}`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      const body = (await response.json()) as { success: boolean; result?: { resources: ResourceView[] } };
      if (body.success && body.result) render(body.result.resources);
    } finally {
      timer = setTimeout(() => void poll(), 1500);
    }
  };
  void poll();
}
