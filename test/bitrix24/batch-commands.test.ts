// One definition per REST method, for single calls and batch commands alike (#15 item 3): a
// command's parameters are checked and converted as a single call's are, and its answer in a
// batch reads as the single call's does. Against the emulator over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bitrix24Client } from '../../src/bitrix24/client.js';
import { isMethodDefinition } from '../../src/bitrix24/define-method.js';
import { ParameterError } from '../../src/bitrix24/errors.js';
import { methods } from '../../src/bitrix24/methods.js';
import { createTestEnv, type TestEnv } from './setup.js';

let env: TestEnv;
let client: Bitrix24Client;
const HANDLER = 'https://app.example.test/widgets/settings';

beforeAll(async () => {
  env = await createTestEnv();
  client = env.factory.forInstallation(env.installation);
});
afterAll(() => env?.close());

const requests = () => env.emulator.stats.portal().restRequests;

/** Every definition in the tree with the path it sits at. */
function leaves(tree: object, path: string[] = []): [string[], unknown][] {
  return Object.entries(tree).flatMap(([key, node]) =>
    isMethodDefinition(node) ? [[[...path, key], node] as [string[], unknown]] : leaves(node, [...path, key]),
  );
}

describe('methods', () => {
  it('holds each method at its REST name, bound on the client at the same place', () => {
    const all = leaves(methods);
    expect(all.length).toBeGreaterThan(15);
    for (const [path, definition] of all) {
      expect((definition as { name: string }).name).toBe(path.join('.'));
      const bound = path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], client);
      expect(typeof bound).toBe('function');
    }
  });
});

describe('command()', () => {
  it('checks and converts parameters as a single call does, sending nothing', () => {
    const before = requests();
    expect(methods.landing.syspage.get.command({ id: '30', scope: 'KNOWLEDGE' })).toEqual({
      method: 'landing.syspage.get',
      params: { id: 30, scope: 'KNOWLEDGE' },
    });
    expect(methods.user.current.command()).toEqual({ method: 'user.current', params: {} });

    const refused = () =>
      methods.landing.repo.bind.command({ fields: { PLACEMENT: 'CRM_LEAD', PLACEMENT_HANDLER: HANDLER } });
    expect(refused).toThrow(ParameterError);
    expect(refused).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS', method: 'landing.repo.bind' }));
    expect(() => methods.landing.syspage.set.command({ id: 30, type: 'nonsense' as never })).toThrow(
      ParameterError,
    );
    expect(() => methods.user.admin.command({ extra: 1 } as never)).toThrow(ParameterError);
    expect(() => methods.landing.site.getList.command({ scope: 'landing' as never })).toThrow(ParameterError);
    expect(requests()).toBe(before);
  });

  it('runs in a batch, a list filter taking an earlier command’s $result, and reads as a single call', async () => {
    const pageParams = { params: { select: ['ID', 'TITLE', 'SITE_ID'], filter: { ID: 31 } } };
    const siteParams = { params: { select: ['ID', 'TITLE'], filter: { ID: 30 } } };
    const { result, errors } = await client.rest.batch({
      page: methods.landing.landing.getList.command(pageParams),
      site: methods.landing.site.getList.command({
        params: { select: ['ID', 'TITLE'], filter: { ID: '$result[page][0][SITE_ID]' } },
      }),
      blocks: methods.landing.block.getList.command({ lid: '30' }),
      syspages: methods.landing.syspage.get.command({ id: 30 }),
      missing: methods.landing.syspage.get.command({ id: 4040 }),
      me: methods.user.current.command(),
    });
    expect(errors).toEqual({});

    const site = methods.landing.site.getList.read(result.site);
    expect(site).toMatchObject([{ ID: 30, TITLE: 'Demo Store' }]);
    expect(site).toEqual(await client.landing.site.getList(siteParams));
    expect(methods.landing.landing.getList.read(result.page)).toEqual(
      await client.landing.landing.getList(pageParams),
    );
    expect(methods.landing.block.getList.read(result.blocks)).toEqual(
      await client.landing.block.getList({ lid: 30 }),
    );
    expect(methods.landing.syspage.get.read(result.syspages)).toMatchObject({
      catalog: { TYPE: 'catalog', LANDING_ID: 31 },
    });
    expect(methods.landing.syspage.get.read(result.missing)).toBeNull();
    expect(methods.user.current.read(result.me)).toMatchObject({ ID: 1, ACTIVE: true });
  });

  it('reads an answer of another shape as undefined, where a single call would throw', () => {
    expect(methods.landing.site.getList.read({ ID: '30' })).toBeUndefined();
    expect(methods.landing.site.getList.read([{ ID: 'thirty', TYPE: 'STORE' }])).toBeUndefined();
    expect(methods.user.current.read(undefined)).toBeUndefined();
    expect(methods.user.admin.read('Y')).toBeUndefined();
  });

  it('binds, lists and unbinds in batches (landing.repo.*, placement.get, event.*)', async () => {
    const handler = 'https://app.example.test/events';
    const bound = await client.rest.batch({
      reset: methods.landing.repo.unbind.command({ code: 'LANDING_SETTINGS', handler: HANDLER }),
      bind: methods.landing.repo.bind.command({
        fields: { PLACEMENT: 'LANDING_SETTINGS', PLACEMENT_HANDLER: HANDLER, TITLE: 'Settings' },
      }),
      event: methods.event.bind.command({ event: 'ONAPPUNINSTALL', handler }),
      placements: methods.placement.get.command(),
      events: methods.event.get.command(),
    });
    expect(Object.keys(bound.errors)).toEqual(['reset']); // nothing to unbind yet
    expect(bound.result.bind).toBe(true);
    expect(methods.placement.get.read(bound.result.placements)).toMatchObject([
      { placement: 'LANDING_SETTINGS', handler: HANDLER, title: 'Settings' },
    ]);
    expect(await client.placement.get()).toEqual(methods.placement.get.read(bound.result.placements));
    expect(methods.event.get.read(bound.result.events)).toEqual([
      { event: 'ONAPPUNINSTALL', handler, auth_type: 0, offline: false },
    ]);

    const unbound = await client.rest.batch({
      placement: methods.landing.repo.unbind.command({ code: 'LANDING_SETTINGS', handler: HANDLER }),
      event: methods.event.unbind.command({ event: 'ONAPPUNINSTALL', handler }),
    });
    expect(unbound.errors).toEqual({});
    expect(methods.event.unbind.read(unbound.result.event)).toEqual({ count: 1 });
    expect(env.emulator.inspect().apps[0]!.placements).toEqual([]);
  });
});
