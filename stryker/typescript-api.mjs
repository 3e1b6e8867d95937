// Stryker (its tsconfig preprocessor and its TypeScript checker) needs the compiler API, which
// TypeScript 7, the project's tsc, no longer ships as a JS module. Loaded with --import into
// Stryker's processes (package.json test:mutation, stryker.config.mjs checkerNodeArgs), this
// resolves `typescript` imported by @stryker-mutator packages to TypeScript 5 (the `typescript5`
// dev dependency); every other import of `typescript` keeps TypeScript 7.
import { register } from 'node:module';

register('./typescript-api-hooks.mjs', import.meta.url);
