// How syncBindings reads the portal's refusals: "already there" counts as bound, anything
// else as a failure naming its code.
import { describe, expect, it } from 'vitest';
import { bitrix24Error } from '../../src/bitrix24/errors.js';
import { type BatchCaller, syncBindings } from '../../src/installations/bind.js';

const event = {
  kind: 'event' as const,
  code: 'ONAPPUNINSTALL',
  handler: 'https://app.example.com/events',
  title: null,
};

function refusingBind(code: string, description: string): BatchCaller {
  return {
    async batch(commands) {
      const errors: Record<string, ReturnType<typeof bitrix24Error>> = {};
      for (const name of Object.keys(commands)) {
        if (name.startsWith('bind_'))
          errors[name] = bitrix24Error({ code, status: 400, description, method: 'event.bind' });
      }
      return { result: {}, errors };
    },
  };
}

describe('syncBindings refusals', () => {
  it('a duplicate event.bind ("Handler already binded", whatever its code) counts as bound', async () => {
    const report = await syncBindings(
      refusingBind('ERROR_CORE', 'Unable to set event handler: Handler already binded'),
      [event],
      [],
    );
    expect(report.failed).toEqual([]);
    expect(report.bound).toEqual([event]);
  });

  it('any other refusal is a failure with its code', async () => {
    const report = await syncBindings(refusingBind('ERROR_CORE', 'Something else broke'), [event], []);
    expect(report.bound).toEqual([]);
    expect(report.failed).toEqual([{ binding: event, code: 'ERROR_CORE', message: 'Something else broke' }]);
  });
});
