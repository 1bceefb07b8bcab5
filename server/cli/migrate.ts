// `npm run db:migrate`: applies pending migrations and exits (the server also does this at start).
import { openForCli } from "./open";

const database = await openForCli();
console.log(`database (${database.kind}) is up to date`);
await database.close();
