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
  {
    // SDK packages load on first use (src/aws/sdk.ts), and Bolt without its index (src/slack/bolt.ts):
    // a value import would load them at every start.
    files: ['src/**/*.ts'],
    ignores: ['src/aws/**', 'src/cli/**', 'src/slack/bolt.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/client-*', '@aws-sdk/credential-providers'],
              allowTypeImports: true,
              message:
                'Make SDK commands through src/aws/sdk.ts (new KMS.DescribeKeyCommand(…)); import only types here.',
            },
            {
              group: ['@slack/bolt'],
              allowTypeImports: true,
              message:
                "Import Bolt's values from src/slack/bolt.ts (its index loads Express and every receiver); import only types here.",
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.cjs'], languageOptions: { globals: globals.node, sourceType: 'commonjs' } },
  // The sandbox page's script runs in the browser, as plain JavaScript.
  { files: ['dev/sandbox/ui/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
);
