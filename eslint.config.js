import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'bench/results/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // The store's raw handle is for tests; program code outside src/store/ asks the store's methods.
    files: ['src/**/*.ts'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: 'store/store\\.js$',
              importNames: ['databaseOf'],
              message: 'Outside src/store/, ask the store a method instead of its raw database handle.',
            },
            {
              // Rows are the store's business: above it, code reads records (status unions, booleans, parsed JSON).
              regex: 'store/tables\\.js$',
              message:
                'Outside src/store/, use the records the store hands out (UserRecord, NodeRecord, …), not row types.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**', '**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
