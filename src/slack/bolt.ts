/**
 * The parts of Bolt the bot uses, from the files that define them. Bolt's index also loads Express,
 * its OAuth installer and every other receiver (about 120 modules more, 50-80 ms of every start and
 * of a Lambda cold start: docs/BENCHMARKS.md), none of which the bot uses. Each is the very object
 * Bolt's index exports (test/unit/boundaries.test.ts), so a Bolt release that moves one fails the
 * tests, not the bot. Types come from `import type … from '@slack/bolt'`, which costs nothing.
 */
export { default as App, LogLevel } from '@slack/bolt/dist/App';
export { AuthorizationError } from '@slack/bolt/dist/errors';
export { default as HTTPReceiver } from '@slack/bolt/dist/receivers/HTTPReceiver';
export { default as AwsLambdaReceiver } from '@slack/bolt/dist/receivers/AwsLambdaReceiver';
export { isValidSlackRequest } from '@slack/bolt/dist/receivers/verify-request';
export * as webApi from '@slack/web-api';
