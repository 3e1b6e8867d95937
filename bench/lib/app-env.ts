// Environment of an app process under test: the emulator's OAuth server and credentials,
// plain-http portals, and our own request limits lifted (autocannon is one address).
import { randomBytes } from 'node:crypto';
import type { EmulatorHandle } from 'bitrix24-emulator';

export function appEnv(
  emulator: EmulatorHandle,
  publicUrl: string,
  databaseUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const app = emulator.apps[0]!;
  return {
    HOST: '127.0.0.1',
    PUBLIC_URL: publicUrl,
    DATABASE_URL: databaseUrl,
    B24_OAUTH_URL: emulator.oauthUrl,
    B24_CLIENT_ID: app.clientId,
    B24_CLIENT_SECRET: app.clientSecret,
    B24_ALLOW_HTTP: 'true',
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    RATE_LIMIT_PER_IP: '100000000',
    RATE_LIMIT_PER_PORTAL: '100000000',
    // Request logs at info would measure pino, not the app; warnings and errors still show.
    LOG_LEVEL: 'warn',
    ...extra,
  };
}
