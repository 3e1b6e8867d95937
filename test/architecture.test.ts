// The layers of docs/architecture.md, held against the code: no import runs back up
// (routes → plugins → placements/admin → installations → bitrix24), the emulator package imports
// nothing of the app, and the app imports nothing of it but its public entry points.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/paths.js';

const LAYER: Record<string, number> = {
  bitrix24: 1,
  installations: 2,
  placements: 3,
  admin: 3,
  // src/services.ts wires the rooms below it; the plugins decorate the app with what it built.
  'services.ts': 3.5,
  plugins: 4,
  routes: 5,
  // Entries: nothing imports them.
  'app.ts': 9,
  'server.ts': 9,
  'cli.ts': 9,
  cli: 9,
  'demo.ts': 9,
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every `from '...'` of a file: the specifier, and the file it names when relative. */
function imports(file: string): { specifier: string; target: string | null }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s+'([^']+)'/g)].map(([, specifier]) => ({
    specifier: specifier!,
    target: specifier!.startsWith('.') ? resolve(dirname(file), specifier!) : null,
  }));
}

const src = join(PROJECT_ROOT, 'src');
const emulator = join(PROJECT_ROOT, 'packages', 'bitrix24-emulator');
const roomOf = (path: string) => relative(src, path).split('/')[0] ?? '';

describe('layers', () => {
  it('no import under src/ runs back up a layer', () => {
    const upward: string[] = [];
    for (const file of sources(src)) {
      // Base modules (config, db, i18n, paths, logger...) sit below every room.
      const from = LAYER[roomOf(file)] ?? 0;
      for (const { target } of imports(file)) {
        if (target === null || !target.startsWith(src)) continue;
        const to = LAYER[roomOf(target).replace(/\.js$/, '.ts')] ?? 0;
        if (to > from) upward.push(`${relative(PROJECT_ROOT, file)} → ${relative(PROJECT_ROOT, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('the emulator package imports nothing of the app', () => {
    const outside = sources(join(emulator, 'src')).flatMap((file) =>
      imports(file)
        .filter(({ target }) => target !== null && !target.startsWith(emulator))
        .map(({ specifier }) => `${relative(PROJECT_ROOT, file)} → ${specifier}`),
    );
    expect(outside).toEqual([]);
  });

  it('the app, its tests and benches use only the emulator package’s entry points', () => {
    const internals = ['src', 'test', 'bench', 'chaos'].flatMap((dir) =>
      sources(join(PROJECT_ROOT, dir)).flatMap((file) =>
        imports(file)
          .filter(
            ({ specifier, target }) =>
              target?.startsWith(emulator) ||
              (specifier.startsWith('bitrix24-emulator/') && specifier !== 'bitrix24-emulator/testing'),
          )
          .map(({ specifier }) => `${relative(PROJECT_ROOT, file)} → ${specifier}`),
      ),
    );
    expect(internals).toEqual([]);
    // The production build: nothing under src/ but the demo (a development tool) uses it.
    const users = sources(src).filter((file) =>
      imports(file).some(({ specifier }) => specifier.startsWith('bitrix24-emulator')),
    );
    expect(users.map((f) => relative(PROJECT_ROOT, f))).toEqual(['src/demo.ts']);
  });
});
