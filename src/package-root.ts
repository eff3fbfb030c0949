import { fileURLToPath } from 'node:url';

/**
 * The folder lvsrun is installed in (the repository, or node_modules/lvsrun): package.json, the
 * shipped playbooks/roles and templates live there. This file sits one level below it both as
 * src/package-root.ts and as dist/package-root.js.
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
