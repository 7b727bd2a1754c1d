// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Folder boundaries are enforced by dependency-cruiser (.dependency-cruiser.cjs, `npm run lint`).

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-test/**',
      'dist-dev/**',
      'dist-lambda/**',
      'cdk.out/**',
      'vendor/**',
      'node_modules/**',
      'coverage/**',
      'jest.config.js',
      '.sandbox/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['**/*.cjs'], languageOptions: { globals: globals.node, sourceType: 'commonjs' } },
  // The sandbox page's script runs in the browser, as plain JavaScript.
  { files: ['dev/sandbox/ui/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
);
