/**
 * The Lambda function's runtime settings that shape its cold start, in one place: the stack sets
 * them and the benchmark loads the bundle with them. No table check (the stack makes the table, and
 * the role may not create one); no `--enable-source-maps` (parsing the bundle's map would cost about
 * 40 ms of every cold start; the bundle keeps its names instead).
 */
export const LAMBDA_RUNTIME_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  DYNAMODB_CREATE_TABLE: 'false',
};
