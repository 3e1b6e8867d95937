// Where the app's files are, from the source tree (src/) and the build (dist/) alike: both sit
// one level below the project root.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Page templates and the language catalogs (views/locales). */
export const VIEWS_DIR = join(PROJECT_ROOT, 'views');
/** Our own CSS, JS and images, served under /static/. */
export const PUBLIC_DIR = join(PROJECT_ROOT, 'public');
