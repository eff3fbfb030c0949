// Lint: typescript-eslint's type-checked rules over src and tests. Layout is prettier's job; the one
// stylistic rule, max-len on src/, sets the same 120 columns, so the two tools never disagree.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.lvsrun/', 'schemas/', 'test/fixtures/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its rejection: await it, or write `void` with a reason.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Hostile-input checks match control characters on purpose (NUL, newline, escape...).
      'no-control-regex': 'off',
      // An async method that does not await still turns a throw into a rejection, which the
      // Promise-returning interfaces (TaskModule.check, Transport.exec) rely on.
      '@typescript-eslint/require-await': 'off',
      // Inventory and playbook values are typed unknown and stringified as Ansible does; a mapping
      // where a string is expected is rejected by the schemas, not by String().
      '@typescript-eslint/no-base-to-string': 'off',
      // Passing on a caught value (whatever was thrown) is not inventing a non-Error rejection.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // `_name` marks a value dropped on purpose (rest destructuring, unused callback parameters).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Source lines stay within 120 columns. Prettier wraps code but not long strings, template
    // literals or comments; those are split by hand (`'a' + 'b'`, joinCmds of sh`` pieces), so
    // nothing is ignored here.
    files: ['src/**/*.ts'],
    rules: { 'max-len': ['error', { code: 120 }] },
  },
  {
    // Tests poke at parsed JSON, mocks and deliberately malformed values: typing each of them
    // would add casts, not safety. Every promise rule above still applies to tests.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // expect(obj.method).toBe(...) compares the function itself; nothing calls it unbound.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Plain JavaScript (bin, scripts, this file) and vitest.config.ts are outside the TypeScript project.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs', 'vitest.config.ts'],
    extends: [js.configs.recommended, tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', module: 'writable' } },
  },
);
