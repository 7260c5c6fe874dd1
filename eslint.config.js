// ESLint flat config: typescript-eslint's type-aware rules on every TypeScript file. The rules
// named here are the ones that catch real bugs in an event-driven agent (a floating promise is
// an error nobody sees) and keep type-only imports out of the runtime graph.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // .cache/ holds CI's unpacked promtool (Prometheus's bundled web UI JavaScript) and the PGlite template.
  { ignores: ['node_modules/', '.cache/', 'e2e-output/', 'dist/', '.wrangler/', '.lvsfleet/', 'coverage/', '**/fixtures/', '**/golden/', 'migrations/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // The workerd tests are outside tsconfig.json (they import the runtime's own modules). The
        // default project's limit (8 files) is a speed warning; these few files lint in seconds.
        projectService: { allowDefaultProject: ['cloud/test-workers/*.ts'], maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16 },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      // zod's `z` (and its default export) is a namespace object: a bundle that imports it keeps the
      // whole of zod. `import * as z` lets esbuild keep only what is used (the agent's zod chunk
      // 288 KB → 148 KB).
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'] > :matches(ImportSpecifier[imported.name='z'], ImportDefaultSpecifier)",
          message: "import * as z from 'zod': the named `z` keeps all of zod in a bundle",
        },
      ],
    },
  },
  {
    // Tests and benchmarks poke at arbitrary (also invalid) documents and untyped wire replies.
    files: ['**/*.test.ts', '**/test/**', '**/test-support/**', '**/*.test-*.ts', '**/test-fixtures.ts', '**/bench/**', 'cloud/test-workers/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
