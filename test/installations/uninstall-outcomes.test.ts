// ONAPPUNINSTALL outcomes that the event suites do not pin (issue #18, mutation testing of
// uninstall.ts): a repeated unprovable claim changes nothing, and each outcome is logged with
// the portal it concerns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventPayloadSchema } from '../../src/bitrix24/payloads.js';
import { handleUninstall } from '../../src/installations/uninstall.js';
import { createLogger } from '../../src/logger.js';
import { LogCapture } from '../helpers/app.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { logged } from './installer-harness.js';

const KEPT = 'dead0001';
const CLEANED = 'dead0002';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ emulator: { portals: [{ memberId: KEPT }, { memberId: CLEANED }] } });
  for (const member of [KEPT, CLEANED]) {
    const portal = stack.emulator.portal(member);
    const tokens = stack.emulator.issueTokens(member, portal.adminUserId);
    await stack.app.installer.install({
      memberId: member,
      domain: portal.domain,
      protocol: 'http',
      lang: 'en',
      refreshToken: tokens.refresh_token,
      accessToken: tokens.access_token,
      applicationToken: member === CLEANED ? 'clean0token' : null,
    });
  }
});
afterAll(async () => stack?.close());

function uninstall(member: string, applicationToken: string, clean: '0' | '1') {
  const logs = new LogCapture();
  const event = eventPayloadSchema.parse({
    event: 'ONAPPUNINSTALL',
    data: { CLEAN: clean },
    auth: { member_id: member, domain: 'portal.example.com', application_token: applicationToken },
  });
  const outcome = handleUninstall(
    {
      store: stack.app.installations,
      log: createLogger('debug', logs.stream),
      tokensRevoked: (installation) => stack.app.tokensRevoked(installation),
    },
    event,
  );
  return { outcome, logs };
}

describe('ONAPPUNINSTALL', () => {
  it('for an unknown portal: unknown_portal, logged with its member_id', async () => {
    const { outcome, logs } = uninstall('dead0099', 'any0token', '0');
    expect(await outcome).toBe('unknown_portal');
    expect(logged(logs.lines, 'uninstall event for an unknown portal ignored', ['memberId'])).toEqual([
      { memberId: 'dead0099' },
    ]);
  });

  it('unprovable and already reported: uninstall_reported again, the recorded report left as it was', async () => {
    const installation = (await stack.app.installations.find(KEPT))!;
    stack.emulator.revokeApp(KEPT);
    const reportedAt = new Date('2026-01-02T03:04:05.000Z');
    await stack.testDb.db.installation.update({
      where: { id: installation.id },
      data: { status: 'uninstall_reported', lastError: 'first report', lastErrorAt: reportedAt },
    });
    await stack.testDb.db.oAuthToken.update({
      where: { installationId: installation.id },
      data: { expiresAt: new Date(stack.app.now() - 1000) },
    });
    const { outcome, logs } = uninstall(KEPT, 'any0token', '1');
    expect(await outcome).toBe('uninstall_reported');
    expect(await stack.app.installations.find(KEPT)).toMatchObject({
      status: 'uninstall_reported',
      lastError: 'first report',
      lastErrorAt: reportedAt,
    });
    expect(
      logged(logs.lines, 'uninstall reported but unprovable: nothing deleted', ['memberId', 'status']),
    ).toEqual([{ memberId: KEPT, status: 'uninstall_reported' }]);
  });

  it('signed, with CLEAN=1: cleaned, logged with its member_id', async () => {
    const { outcome, logs } = uninstall(CLEANED, 'clean0token', '1');
    expect(await outcome).toBe('cleaned');
    expect(await stack.app.installations.find(CLEANED)).toBeNull();
    expect(logged(logs.lines, 'app uninstalled with CLEAN=1: all portal data deleted', ['memberId'])).toEqual(
      [{ memberId: CLEANED }],
    );
  });
});
