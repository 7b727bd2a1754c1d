/**
 * The bot's runtime settings that shape its start, in one place: the stack gives them to the Lambda
 * function and the container, and the cold-start benchmark loads the bundle with them. No table
 * check (the stack makes the table, and the role may not create one); no `--enable-source-maps`
 * (parsing the bundle's map would cost about 40 ms of every Lambda cold start; the bundle keeps its
 * names instead).
 */
export const RUNTIME_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  DYNAMODB_CREATE_TABLE: 'false',
};
