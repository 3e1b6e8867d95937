import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frozenEmulator, rest } from '../src/testing.js';

let env: Awaited<ReturnType<typeof frozenEmulator>>;

beforeAll(async () => {
  env = await frozenEmulator();
});
afterAll(() => env.emulator.close());

describe('batch', () => {
  it('runs commands with PHP-style query strings and $result references', async () => {
    const r = await env.call('batch', {
      halt: 0,
      cmd: {
        site: 'landing.site.add?fields[TITLE]=Batch site&fields[CODE]=batch-site',
        page: 'landing.landing.add?fields[TITLE]=Batch page&fields[SITE_ID]=$result[site]',
        pages:
          'landing.landing.getList?params[filter][SITE_ID]=$result[site]&params[select][]=ID&params[select][]=TITLE',
        me: 'user.current',
        title: 'app.option.set?options[first_page]=$result[pages][0][TITLE]',
      },
    });
    expect(r.status).toBe(200);
    const { result, result_error, result_time, result_total, result_next } = r.body.result;
    expect(typeof result.site).toBe('number');
    expect(typeof result.page).toBe('number');
    expect(result.pages).toEqual([
      { ID: String(result.page), TITLE: 'Batch page', DOMAIN_ID: String(result.site) },
    ]);
    expect(result.me.ID).toBe('1');
    expect(result.title).toBe(true);
    expect(result_error).toEqual([]);
    expect(result_total).toEqual([]);
    expect(result_next).toEqual([]);
    expect(Object.keys(result_time)).toEqual(['site', 'page', 'pages', 'me', 'title']);
    expect(result_time.me).toHaveProperty('operating');
    expect(r.body.time).toHaveProperty('start');
    expect(env.emulator.inspect().apps[0]?.options.first_page).toBe('Batch page');
  });

  it('collects errors and continues without halt, stops with halt=1', async () => {
    const cmd = { a: 'user.current', b: 'landing.syspage.set?type=catalog', c: 'app.info' };
    const soft = await env.call('batch', { halt: 0, cmd });
    expect(Object.keys(soft.body.result.result)).toEqual(['a', 'c']);
    expect(soft.body.result.result_error.b).toEqual({
      error: 'MISSING_PARAMS',
      error_description: 'Insufficient call parameters, missing: id',
    });
    const hard = await env.call('batch', { halt: 1, cmd });
    expect(Object.keys(hard.body.result.result)).toEqual(['a']);
    expect(Object.keys(hard.body.result.result_error)).toEqual(['b']);
  });

  it('accepts cmd as an array and answers lists', async () => {
    const r = await env.call('batch', { cmd: ['user.current', 'user.admin'] });
    expect(Array.isArray(r.body.result.result)).toBe(true);
    expect(r.body.result.result[1]).toBe(true);
  });

  it('reports result_total / result_next for list methods', async () => {
    const r = await env.call('batch', { cmd: { users: 'user.get' } });
    expect(r.body.result.result_total).toEqual({ users: 2 });
  });

  it('runs the first 50 commands and fails only the extra ones', async () => {
    const cmd = Object.fromEntries(
      Array.from({ length: 53 }, (_, i) => [`c${i}`, `app.option.set?options[k${i}]=v`]),
    );
    const r = await env.call('batch', { cmd });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.result.result)).toHaveLength(50);
    expect(r.body.result.result.c49).toBe(true);
    expect(Object.keys(r.body.result.result_error)).toEqual(['c50', 'c51', 'c52']);
    expect(r.body.result.result_error.c50.error).toBe('ERROR_BATCH_LENGTH_EXCEEDED');
    // The extra commands did not run.
    const options = (await env.call('app.option.get', {})).body.result;
    expect(options.k49).toBe('v');
    expect(options.k50).toBeUndefined();
  });

  it('does not allow batch inside batch', async () => {
    const r = await env.call('batch', { cmd: { inner: 'batch?cmd[x]=user.current' } });
    expect(r.body.result.result_error.inner.error).toBe('ERROR_BATCH_METHOD_NOT_ALLOWED');
  });

  it('counts as one request against the leaky bucket', async () => {
    env.emulator.resetLimits();
    const cmd = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`c${i}`, 'user.current']));
    await env.call('batch', { cmd });
    expect(env.emulator.bucketLevel()).toBe(1);
  });

  it('accepts form-encoded batch bodies', async () => {
    const form = new URLSearchParams({
      auth: env.admin.access_token,
      halt: '0',
      'cmd[me]': 'user.current',
      'cmd[sites]': 'landing.site.getList?params[select][]=ID&params[filter][ID]=30',
    });
    const r = await rest(env.portal.clientEndpoint, 'batch.json', {}, { form: form.toString() });
    expect(r.body.result.result.sites).toEqual([{ ID: '30', TYPE: 'STORE' }]);
  });
});
