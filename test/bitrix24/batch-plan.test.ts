import { describe, expect, it } from 'vitest';
import { type BatchCommands, encodeCommand, planBatches } from '../../src/bitrix24/batch-plan.js';
import { ParameterError } from '../../src/bitrix24/errors.js';

const many = (n: number, prefix = 'c'): BatchCommands =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, { method: 'user.current' }]));

describe('planBatches', () => {
  it('splits independent commands into batches of 50 in order', () => {
    const plan = planBatches(many(120));
    expect(plan.map((b) => b.length)).toEqual([50, 50, 20]);
    expect(plan.flat()).toEqual(Object.keys(many(120)));
  });

  it('keeps commands linked by $result references in one batch', () => {
    const commands: BatchCommands = { ...many(48, 'a') };
    commands.site = { method: 'landing.site.getList' };
    commands.pages = {
      method: 'landing.landing.getList',
      params: { params: { filter: { SITE_ID: '$result[site][0][ID]' } } },
    };
    commands.blocks = { method: 'landing.block.getList', params: { lid: '$result[pages][0][ID]' } };
    const plan = planBatches(commands);
    const withSite = plan.find((b) => b.includes('site'));
    expect(withSite).toContain('pages');
    expect(withSite).toContain('blocks');
    expect(plan.every((b) => b.length <= 50)).toBe(true);
  });

  it('refuses a linked group larger than one batch', () => {
    const commands: BatchCommands = { first: { method: 'user.current' } };
    for (let i = 0; i < 50; i++)
      commands[`d${i}`] = { method: 'user.get', params: { ID: '$result[first][ID]' } };
    expect(() => planBatches(commands)).toThrow(ParameterError);
    expect(() => planBatches(commands)).toThrow(/BATCH_REFERENCE_SPLIT/);
  });

  it('refuses nested batch and odd method names', () => {
    expect(() => planBatches({ a: { method: 'batch' } })).toThrow(/ERROR_BATCH_METHOD_NOT_ALLOWED/);
    expect(() => planBatches({ a: { method: '../oauth/token' } })).toThrow(ParameterError);
  });

  it('encodes parameters PHP-style', () => {
    expect(
      encodeCommand({ method: 'landing.repo.bind', params: { fields: { PLACEMENT: 'LANDING_SETTINGS' } } }),
    ).toBe('landing.repo.bind?fields%5BPLACEMENT%5D=LANDING_SETTINGS');
    expect(encodeCommand({ method: 'app.info' })).toBe('app.info');
  });
});
