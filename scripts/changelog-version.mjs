// npm's `version` lifecycle step: after `npm version X` has set the new version in package.json and
// before it commits and tags, turn CHANGELOG.md's "## [Unreleased]" into "## [X.Y.Z] - DATE" under a
// fresh, empty Unreleased heading, so the release commit carries its own changelog entry.
import { readFileSync, writeFileSync } from 'node:fs';

const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const text = readFileSync('CHANGELOG.md', 'utf8');
if (!/^## \[Unreleased\]$/m.test(text)) {
  console.error('CHANGELOG.md has no "## [Unreleased]" heading: nothing to release');
  process.exit(1);
}
if (text.includes(`## [${version}]`)) {
  console.error(`CHANGELOG.md already has a ${version} entry`);
  process.exit(1);
}
const date = new Date().toISOString().slice(0, 10);
writeFileSync('CHANGELOG.md', text.replace(/^## \[Unreleased\]$/m, `## [Unreleased]\n\n## [${version}] - ${date}`));
