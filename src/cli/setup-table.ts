import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../config';
import { ensureTable } from '../store';

/** `npm run setup:table`: creates the bot's DynamoDB table (keys, indexes, TTL) if it is missing. */
async function main(): Promise<void> {
  const config = loadConfig();
  const db = new DynamoDBClient({});
  const result = await ensureTable(db, config.DYNAMODB_TABLE);
  process.stdout.write(`Table ${config.DYNAMODB_TABLE}: ${result}\n`);
  db.destroy();
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
