// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Folder dependency rules (see README "Architecture"): enforced here, not by discipline. */
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const ban = (group, message) => ({ group, message });

export default tseslint.config(
  { ignores: ['dist/**', 'dist-test/**', 'dist-dev/**', 'node_modules/**', 'coverage/**', 'jest.config.js', '.sandbox/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  // The sandbox page's script runs in the browser, as plain JavaScript.
  { files: ['dev/sandbox/ui/**/*.js'], languageOptions: { globals: globals.browser, sourceType: 'script' } },
  {
    files: ['src/engine/**/*.ts'],
    rules: restrict([
      ban(['@slack/*', '@aws-sdk/*'], 'The engine knows nothing about Slack or AWS: talk to the world through src/engine/ports.ts.'),
      ban(['../slack/*', '../steps/*', '../store/*', '../aws/*', '../config*', '../main*', '../emulators/*', '../sandbox/*'], 'The engine imports nothing from other src/ folders.'),
    ]),
  },
  {
    files: ['src/steps/**/*.ts'],
    rules: restrict([
      ban(['@slack/*', '@aws-sdk/client-dynamodb'], 'Steps do one AWS thing; they do not talk to Slack or the store.'),
      ban(['../slack/*', '../store/*', '../config*', '../main*', '../emulators/*', '../engine/*'], 'Steps import the engine only through src/engine (index) and receive clients as parameters.'),
    ]),
  },
  {
    files: ['src/store/**/*.ts'],
    rules: restrict([
      ban(['@slack/*', '@aws-sdk/client-sso-admin', '@aws-sdk/client-kms', '@aws-sdk/client-identitystore'], 'The store only talks to DynamoDB.'),
      ban(['../slack/*', '../steps/*', '../aws/*', '../engine/*', '../emulators/*'], 'The store implements the engine ports from src/engine (index) only.'),
    ]),
  },
  {
    files: ['src/watch/**/*.ts'],
    rules: restrict([ban(['@slack/*', '@aws-sdk/*'], 'The watcher decides; AWS reads, the state store and Slack are given to it.')]),
  },
  {
    files: ['src/slack/**/*.ts'],
    rules: restrict([
      ban(['@aws-sdk/*'], 'The Slack adapter never calls AWS: it goes through the engine and the ports it is given.'),
      ban(['../steps/*', '../store/*', '../aws/*', '../engine/*', '../emulators/*'], 'The Slack adapter uses the engine through src/engine (index) only.'),
    ]),
  },
);
