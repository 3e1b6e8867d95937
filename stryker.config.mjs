// Mutation testing of the code that guards a portal (issue #18; docs/mutation.md).
// `npm run test:mutation`; not part of CI (.ci/run).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // TypeScript 7 has no compiler API; the checker gets TypeScript 5 (stryker/typescript-api.mjs).
  checkerNodeArgs: ['--import', './stryker/typescript-api.mjs'],
  coverageAnalysis: 'perTest',
  // A mutant in module-level code (schema definitions, constant tables) is "static": every
  // suite would rerun for each one. Those are left out and covered by exact-value tests
  // (docs/mutation.md).
  ignoreStatic: true,
  // Messages and log texts: asserted where they matter (codes, pages); a mutant per sentence
  // would be noise (docs/mutation.md).
  mutator: { excludedMutations: ['StringLiteral'] },
  concurrency: 2,
  timeoutMS: 10_000,
  mutate: [
    'src/installations/installer.ts',
    'src/installations/install-verification.ts',
    'src/installations/heal.ts',
    'src/installations/token-inspect.ts',
    'src/installations/oauth-exchange.ts',
    'src/installations/uninstall.ts',
    'src/installations/grant-check.ts',
    'src/installations/tokens.ts',
    'src/installations/token-oauth-client.ts',
    'src/installations/oauth-request.ts',
    'src/installations/cipher.ts',
    'src/placements/page-context.ts',
    'src/placements/user-verifier.ts',
    'src/placements/context.ts',
    'src/plugins/security-headers.ts',
    'src/bitrix24/portal-origin.ts',
    'src/plugins/rate-limits.ts',
    'src/plugins/request-windows.ts',
    'src/form.ts',
    'src/bitrix24/payloads.ts',
    'src/bitrix24/placement-payloads.ts',
    'src/bitrix24/redact.ts',
    'src/logger.ts',
    'src/bitrix24/oauth-servers.ts',
  ],
  ignorePatterns: ['dist', 'reports', 'bench', 'coverage', '.stryker-tmp*', '*.db'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  incrementalFile: 'reports/mutation/incremental.json',
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
};
