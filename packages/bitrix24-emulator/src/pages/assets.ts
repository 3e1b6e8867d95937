import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's assets/ folder: src/pages/ is two levels below the package root. */
function assetDir(): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets');
  if (!existsSync(join(dir, 'editor.js'))) throw new Error(`${dir}/editor.js not found`);
  return dir;
}

const cache = new Map<string, string>();

export function asset(name: 'editor.js' | 'editor.css'): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(assetDir(), name), 'utf8');
    cache.set(name, text);
  }
  return text;
}
