import { drizzle } from "drizzle-orm/d1";

/**
 * A drizzle database over a D1 binding. Without the schema: every query names
 * its tables from ./schema, and handing drizzle the schema would make it build the relational
 * query config of every table on each call, which a profile of `/v1/decide` showed costing about
 * 4% of a decision's CPU (the relational `db.query` API is not used).
 */
export function createDb(d1: D1Database) {
  return drizzle(d1);
}
export type Database = ReturnType<typeof createDb>;
