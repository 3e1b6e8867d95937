import { defineConfig } from 'vitest/config';

// The suites `npm run test:mutation` (Stryker) runs against each mutant of the guard code:
// the ones that exercise install/uninstall verification, tokens, the cipher, page contexts,
// user verification, the domain pin, headers, rate limits, payloads and redaction. Browser,
// load, fuzz and emulator suites, and the slow widget and two-replica suites, stay out: each
// mutant reruns the suites that cover it, and those would not fit the 15-minute budget
// (docs/mutation.md).
export default defineConfig({
  test: {
    include: [
      'test/security/defences-*.test.ts',
      'test/security/error-pages.test.ts',
      'test/security/install-takeover.test.ts',
      'test/security/install-inspection.test.ts',
      'test/security/reload-check.test.ts',
      'test/security/hostile-domain.test.ts',
      'test/security/https-only.test.ts',
      'test/security/oauth-servers.test.ts',
      'test/security/secrets-and-ssrf.test.ts',
      'test/bitrix24/oauth-answers.test.ts',
      'test/bitrix24/redact.test.ts',
      'test/bitrix24/tokens.test.ts',
      'test/placements/caches.test.ts',
      'test/placements/auth-expires-flow.test.ts',
      'test/placements/page-context.test.ts',
      'test/installations/address-throttle.test.ts',
      'test/installations/token-inspect.test.ts',
      'test/installations/installer-*.test.ts',
      'test/installations/install-once.test.ts',
      'test/installations/uninstall-outcomes.test.ts',
      'test/installations/tokens-*.test.ts',
      'test/installations/terminal.test.ts',
      'test/installations/store.test.ts',
      'test/e2e/install.test.ts',
      'test/e2e/install-recovery.test.ts',
      'test/e2e/app-page.test.ts',
      'test/http/events.test.ts',
      'test/http/form.test.ts',
      'test/security/request-windows.test.ts',
      // Guard-code survivors of issue #18 (docs/mutation.md): each file runs in well under 10 s.
      'test/bitrix24/payload-parsing.test.ts',
      'test/bitrix24/placement-payloads.test.ts',
      'test/installations/cipher.test.ts',
      'test/security/log-lines.test.ts',
      'test/placements/page-context-bounds.test.ts',
      'test/placements/widget-context.test.ts',
      'test/security/rate-limit-headers.test.ts',
      'test/security/rate-limit-window.test.ts',
      'test/e2e/address-change.test.ts',
    ],
    // One module graph for every file and every run: Stryker reruns the covering files once
    // per mutant, and re-importing Fastify, Prisma and the app per file cost more than the
    // tests themselves (a run on rate-limits.ts: 3 min 16 s isolated, 1 min 21 s shared, the
    // same verdict for every mutant; docs/mutation.md). Each suite builds its own app and
    // database, so nothing but the module cache is shared.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
