import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frozenEmulator, rest } from '../src/testing.js';

let env: Awaited<ReturnType<typeof frozenEmulator>>;
let userToken: string;

beforeAll(async () => {
  env = await frozenEmulator();
  userToken = env.emulator.issueTokens(env.portal.memberId, 2).access_token;
});
afterAll(() => env.emulator.close());

describe('app.option.*', () => {
  it('set (admin) then get one or all', async () => {
    expect((await env.call('app.option.get')).body.result).toEqual([]);
    expect((await env.call('app.option.set', { options: { data: 'value', n: 5 } })).body.result).toBe(true);
    expect((await env.call('app.option.get')).body.result).toEqual({ data: 'value', n: 5 });
    expect((await env.call('app.option.get', { option: 'data' })).body.result).toBe('value');
    expect((await env.call('app.option.get', { option: 'missing' })).body.result).toBeNull();
    expect((await env.call('app.option.get', { option: 'n' }, userToken)).body.result).toBe(5);
  });

  it('refuses empty options and non-admins', async () => {
    const empty = await env.call('app.option.set', { options: {} });
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({ error: 'ArgumentNullException', error_description: 'options is empty' });
    expect((await env.call('app.option.set')).body.error).toBe('ArgumentNullException');
    const user = await env.call('app.option.set', { options: { a: 1 } }, userToken);
    expect(user.status).toBe(403);
    expect(user.body).toEqual({
      error: 'ACCESS_DENIED',
      error_description: 'Access denied! Administrator authorization required',
    });
  });

  it('needs application context', async () => {
    const hook = env.emulator.addWebhook();
    const r = await rest(hook, 'app.option.get', {});
    expect(r.status).toBe(403);
    expect(r.body.error_description).toBe('Access denied! Application context required');
    expect((await rest(hook, 'app.info', {})).body.error).toBe('ACCESS_DENIED');
  });
});

describe('app.info, user.current, profile', () => {
  it('app.info reports INSTALLED from installFinish', async () => {
    const before = await env.call('app.info');
    expect(before.body.result).toMatchObject({
      ID: 1,
      CODE: 'local.emulator-app',
      STATUS: 'L',
      INSTALLED: false,
      LICENSE: 'en_pro100',
    });
    env.emulator.finishInstall();
    expect((await env.call('app.info')).body.result.INSTALLED).toBe(true);
  });

  it('user.current is the token owner; user.admin and profile agree', async () => {
    expect((await env.call('user.current', {}, userToken)).body.result).toMatchObject({
      ID: '2',
      NAME: 'Ivan',
      LAST_NAME: 'User',
    });
    expect((await env.call('user.admin', {}, userToken)).body.result).toBe(false);
    expect((await env.call('profile')).body.result).toMatchObject({ ID: '1', ADMIN: true });
  });

  it('placement.call is accepted and recorded', async () => {
    const r = await env.call('placement.call', { PLACEMENT: 'refreshBlock', PARAMS: { id: 996 } });
    expect(r.body.result).toBe(true);
    const snap = env.emulator.inspect();
    expect(snap.placementCalls.at(-1)).toMatchObject({ command: 'refreshBlock', params: { id: 996 } });
    expect(snap.refreshedBlocks.at(-1)).toMatchObject({ blockId: 996, source: 'rest' });
  });
});

describe('event.*', () => {
  it('binds, lists and unbinds handlers', async () => {
    expect(
      (await env.call('event.bind', { event: 'onAppUninstall', handler: 'https://app.test/uninstall' })).body
        .result,
    ).toBe(true);
    const dup = await env.call('event.bind', {
      event: 'ONAPPUNINSTALL',
      handler: 'https://app.test/uninstall',
    });
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({
      error: 'ERROR_CORE',
      error_description: 'Unable to set event handler: Handler already binded',
    });
    expect(
      (await env.call('event.bind', { event: 'ONNOPE', handler: 'https://app.test/x' })).body.error,
    ).toBe('ERROR_EVENT_NOT_FOUND');
    expect((await env.call('event.bind', { event: 'ONAPPINSTALL' })).body.error).toBe('ERROR_ARGUMENT');
    expect((await env.call('event.get')).body.result).toEqual([
      { event: 'ONAPPUNINSTALL', handler: 'https://app.test/uninstall', auth_type: '0', offline: 0 },
    ]);
    expect(env.emulator.inspect().apps[0]?.events).toHaveLength(1);
    const byUser = await env.call(
      'event.unbind',
      { event: 'ONAPPUNINSTALL', handler: 'https://app.test/uninstall' },
      userToken,
    );
    expect(byUser.status).toBe(403);
    const un = await env.call('event.unbind', {
      event: 'ONAPPUNINSTALL',
      handler: 'https://app.test/uninstall',
    });
    expect(un.body.result).toEqual({ count: 1 });
    expect((await env.call('event.get')).body.result).toEqual([]);
  });

  it('ordinary users bind handlers authorised as themselves', async () => {
    await env.call(
      'event.bind',
      { event: 'ONUSERADD', handler: 'https://app.test/u', auth_type: 1 },
      userToken,
    );
    expect((await env.call('event.get')).body.result).toContainEqual(
      expect.objectContaining({ auth_type: '2' }),
    );
  });
});
