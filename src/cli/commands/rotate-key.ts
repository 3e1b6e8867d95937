import type { ResealReport } from '../../installations/types.js';
import { type Command, EXIT, line } from '../io.js';

const describe = (what: string, r: ResealReport) =>
  `${what}: ${r.resealed} re-encrypted, ${r.current} already under the current key` +
  `${r.skipped ? `, ${r.skipped} changed meanwhile (written by the app under its key)` : ''}` +
  `${r.unreadable.length ? `, ${r.unreadable.length} unreadable` : ''}`;

export const rotateKey: Command = {
  name: 'rotate-key',
  usage: 'rotate-key',
  summary:
    're-encrypt every stored token under TOKEN_ENCRYPTION_KEY, reading old ones with TOKEN_ENCRYPTION_KEY_PREVIOUS',
  portal: 'none',
  async run({ ops, config, io }) {
    if (!config.tokenEncryptionKey) {
      line(io.stderr, 'error: TOKEN_ENCRYPTION_KEY is not set; there is no key to encrypt under');
      return EXIT.config;
    }
    const { tokens, applicationTokens } = await ops.store.resealSecrets();
    line(io.stdout, describe('token pairs', tokens));
    line(io.stdout, describe('application tokens', applicationTokens));
    const unreadable = [...new Set([...tokens.unreadable, ...applicationTokens.unreadable])];
    if (unreadable.length) {
      line(
        io.stdout,
        `no configured key opens the secrets of: ${unreadable.join(', ')}; add the key they were sealed with to TOKEN_ENCRYPTION_KEY_PREVIOUS and run again`,
      );
      return EXIT.failed;
    }
    return EXIT.ok;
  },
};
