import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** views/emulator/ sits at the project root; walk up so this works from src/ (tsx) and dist/ alike. */
function assetDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'views', 'emulator');
    if (existsSync(join(candidate, 'editor.js'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('views/emulator/editor.js not found');
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
