// No REST method name written as a string outside its definition (#15 item 3): callers take
// single calls from the client and batch commands from methods.ts, so a renamed or retyped
// method changes in one place. The emulator (the portal's side) and defineMethod calls are exempt.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

/** `method: 'landing.site.getList'` or `.call('app.info'` / `.list<T>('crm.item.list'`. */
const RAW_METHOD = [
  /\bmethod:\s*['"`][a-z]+\.[\w.]+['"`]/gi,
  /\.(?:call|list|request)(?:<[^>]*>)?\(\s*['"`][a-z]+\.[\w.]+['"`]/gi,
];

describe('REST method names', () => {
  it('appear in src only in definitions', () => {
    const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts') && !file.startsWith('emulator') && !file.startsWith('generated'),
    );
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((file) => {
      const text = readFileSync(join(SRC, file), 'utf8');
      return RAW_METHOD.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => `${file}: ${m[0]}`));
    });
    expect(found).toEqual([]);
  });
});
