// Lint with type information: promises that nobody awaits, promises handed where a plain
// callback is expected, switches that miss a case, and the door (plugins import only
// core/api.ts; core never imports core/api.ts). Import cycles, and core importing a plugin,
// are found by test/core/structure/import-cycles.test.ts. Formatting is prettier's (`npm run format:check`),
// not lint's.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '**/browser/**', 'test/fixtures/**', 'scripts/**/*.js', 'bin/**', 'eslint.config.js'],
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      // node:test's describe and it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    files: ['plugins/**/*.ts', 'plugins/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+core/(?!api\\.js$)', message: 'A plugin imports only core/api.ts, the door.' }] }],
    },
  },
  {
    files: ['core/**/*.ts', 'core/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\./|(\\.\\./)+)api\\.js$', message: 'Core never imports core/api.ts; import the module itself.' },
          ],
        },
      ],
    },
  },
);
