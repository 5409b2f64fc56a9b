// The rules every action contribution keeps, core's and plugins' alike (a third-party plugin
// imports runActionContract from the package's `testing` entry and names its own actions):
// every answer, success or not, is the CKAN envelope; every refusal comes from the error
// catalogue (a CKAN error type, a status of the catalogue, no internals), never a 5xx, whatever
// the input; an action that changes data refuses GET and refuses anyone not signed in; and
// permissions come before input: a caller who may not write learns nothing of what exists
// from a write action (a 403, never a 404 that tells an id apart from a missing one).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ActionDefinition } from '../../core/api.js';

/** Something that answers requests as the host's app does (`app.request` of hono). */
export interface ActionApp {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** What an action plugin's test hands the contract. */
export interface ActionContractSubject {
  /** The host's app, with the actions registered. */
  app: ActionApp;
  /** The actions to hold to the rules (a plugin's own contributions). */
  actions: ActionDefinition[];
  /** An `Authorization` value of a signed-in user who belongs to no organisation and is no sysadmin. */
  outsider: string;
  /** Write actions anyone may call without signing in (e.g. a sign-up), if any. */
  anonymousWrites?: string[];
  /**
   * Write actions known to look an id up before checking permission (as CKAN's own do), each a
   * deliberate, reviewed exception. The list must be exact: an action that stops leaking must
   * leave it, so it can only shrink.
   */
  knownExistenceLeaks?: string[];
  cleanup?(): Promise<void>;
}

/** How a test suite hands the contract its subject. */
export interface ActionContractOptions {
  /** Shown in the suite's title. */
  name: string;
  make(): Promise<ActionContractSubject>;
}

const CKAN_TYPES = new Set(['Validation Error', 'Authorization Error', 'Not Found Error', 'Conflict Error', 'Request Entity Too Large', 'Service Unavailable']);
const CATALOGUE_STATUSES = new Set([200, 400, 403, 404, 409, 413, 429, 503, 507]);
const LEAK = /\n\s+at |\bat [\w.<>]+ \(|node_modules|SequelizeError|SQLITE_|syntax error at or near|\/(?:tmp|home|usr|var|work|root)\//;

/** Inputs no action should take, of every JSON type where a field is expected. */
const JUNK: Array<Record<string, unknown>> = [
  { id: { $gt: '' }, name: ['x'], limit: -1, offset: 'many', q: 5, state: 'deleted', include_private: 'yes' },
  { id: "' OR 1=1 --", name: '../../etc/passwd', owner_org: null, type: 7, resources: 'all', extras: [1] },
  { id: 'x'.repeat(5000), nested: { deep: { deeper: [[[[1]]]] } }, __proto__: { admin: true } },
];

interface Answer {
  status: number;
  body: { success?: unknown; help?: unknown; result?: unknown; error?: { __type?: unknown; message?: unknown } };
  text: string;
}

/** Registers the contract suite (a node:test `describe`) for a set of actions. */
export function runActionContract(options: ActionContractOptions): void {
  describe(`Action contract: ${options.name}`, () => {
    let subject: ActionContractSubject;
    before(async () => (subject = await options.make()));
    after(async () => subject?.cleanup?.());

    async function call(name: string, input: Record<string, unknown>, authorization: string, method: 'GET' | 'POST' = 'POST'): Promise<Answer> {
      const headers: Record<string, string> = authorization ? { authorization } : {};
      const init: RequestInit = method === 'POST' ? { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(input) } : { method, headers };
      const query = method === 'GET' ? `?${new URLSearchParams(Object.entries(input).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]))}` : '';
      const response = await subject.app.request(`/api/3/action/${name}${query}`, init);
      const text = await response.text();
      let body: Answer['body'];
      try {
        body = JSON.parse(text) as Answer['body'];
      } catch {
        assert.fail(`${name}: the answer is not JSON: ${text.slice(0, 200)}`);
      }
      return { status: response.status, body, text };
    }

    /** An answer of the catalogue: the envelope, a known status and type, nothing internal. */
    function assertCatalogued(answer: Answer, what: string): void {
      assert.ok(CATALOGUE_STATUSES.has(answer.status), `${what}: status ${answer.status} is not one of the catalogue's: ${answer.text.slice(0, 300)}`);
      assert.equal(typeof answer.body.success, 'boolean', `${what}: the CKAN envelope`);
      assert.doesNotMatch(answer.text, LEAK, `${what}: the answer shows internals`);
      if (answer.body.success) return;
      assert.ok(CKAN_TYPES.has(String(answer.body.error?.__type)), `${what}: error type ${String(answer.body.error?.__type)} is not a catalogue type`);
      assert.equal(typeof answer.body.error?.message, 'string', `${what}: the error says what was wrong`);
      assert.match(String((answer.body.error as { code?: unknown } | undefined)?.code), /^PLATFORM_ERR_[A-Z_]+$/, `${what}: the catalogue's code, for clients to key on`);
    }

    const writes = (): ActionDefinition[] => subject.actions.filter((a) => a.kind === 'write' && !(subject.anonymousWrites ?? []).includes(a.name));

    it('answers an empty call, signed in or not, from the catalogue', async () => {
      assert.ok(subject.actions.length > 0, 'the subject names at least one action');
      for (const action of subject.actions) {
        assertCatalogued(await call(action.name, {}, ''), `${action.name} (anonymous)`);
        assertCatalogued(await call(action.name, {}, subject.outsider), `${action.name} (outsider)`);
      }
    });

    it('answers junk input from the catalogue, never with a 5xx', async () => {
      for (const action of subject.actions) {
        for (const [i, input] of JUNK.entries()) {
          assertCatalogued(await call(action.name, input, ''), `${action.name} junk #${i + 1} (anonymous)`);
          assertCatalogued(await call(action.name, input, subject.outsider), `${action.name} junk #${i + 1} (outsider)`);
        }
      }
    });

    it('refuses GET for actions that change data', async () => {
      for (const action of subject.actions.filter((a) => a.kind === 'write')) {
        const answer = await call(action.name, { id: randomUUID() }, subject.outsider, 'GET');
        assertCatalogued(answer, `GET ${action.name}`);
        assert.equal(answer.body.success, false, `GET ${action.name} was refused`);
        assert.ok(answer.status >= 400 && answer.status < 500, `GET ${action.name}: a 4xx`);
      }
    });

    it('lets no one change data without signing in', async () => {
      for (const action of writes()) {
        for (const input of [{}, { id: randomUUID(), name: 'contract-probe', owner_org: randomUUID() }, ...JUNK]) {
          const answer = await call(action.name, input, '');
          assert.equal(answer.body.success, false, `${action.name} ran for an anonymous caller with ${JSON.stringify(input).slice(0, 100)}`);
        }
      }
    });

    it('checks permissions before input: an anonymous writer learns nothing of what exists', async () => {
      const told: string[] = [];
      for (const action of writes()) {
        const answer = await call(action.name, { id: randomUUID(), name: `probe-${randomUUID().slice(0, 8)}` }, '');
        if (answer.status === 404) told.push(action.name);
      }
      assert.deepEqual(told.sort(), [...(subject.knownExistenceLeaks ?? [])].sort(), 'write actions that tell an anonymous caller an id does not exist (check permission first)');
    });
  });
}
