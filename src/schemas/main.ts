import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';
import { SCHEMA_FILES, schemaText } from './documents.js';

/** `npm run schemas` (and prepack): writes schemas/NAME.json into the package, for editors. */
const dir = join(PACKAGE_ROOT, 'schemas');
mkdirSync(dir, { recursive: true });
for (const name of SCHEMA_FILES) {
  writeFileSync(join(dir, `${name}.json`), schemaText(name));
  process.stdout.write(`wrote schemas/${name}.json\n`);
}
