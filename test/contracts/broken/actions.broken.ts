// Deliberately broken actions, run by contract-failures.test.ts to show that the action
// contract catches them: one fails with a plain Error (a 500) on input it does not expect, one
// changes data for anyone and answers GET, one tells an anonymous caller that an id is missing.
import { Actions, AuthorizationError, NotFoundError, definePlugin, type ActionDefinition } from '../../../core/api.js';
import { runActionContract } from '../actions.js';
import { startTestHost } from '../../helpers/test-host.js';
import { ApiTokenServiceId, UserServiceId } from '../../../core/services/service-ids.js';

const actions: ActionDefinition[] = [
  { name: 'careless_show', kind: 'read', help: 'Shows.', run: async (input) => ({ id: (input.id as string).toUpperCase() }) },
  { name: 'careless_touch', kind: 'write', help: 'Changes something for anyone.', run: async () => ({ touched: true }) },
  {
    name: 'careless_update', kind: 'write', help: 'Looks up, then checks.',
    run: async (input, ctx) => {
      if (input.id !== 'known') throw new NotFoundError(`no thing "${String(input.id)}"`);
      if (ctx.actor.kind !== 'user') throw new AuthorizationError('sign in');
      return {};
    },
  },
];

runActionContract({
  name: 'careless',
  async make() {
    const t = await startTestHost('sqlite', { plugins: [definePlugin({ name: 'careless-actions', version: '1.0.0', register: (ctx) => actions.forEach((a) => ctx.contribute(Actions, a)) })] });
    const outsider = await t.host.services.get(UserServiceId).create({ name: 'outsider', email: 'outsider@example.org' });
    return { app: t.app, actions, outsider: (await t.host.services.get(ApiTokenServiceId).create(outsider, 'test')).token, cleanup: () => t.close() };
  },
});
