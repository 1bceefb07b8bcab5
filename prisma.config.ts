import { defineConfig } from "prisma/config";

// The datasource URL is only needed where Prisma's own `migrate` runs; the server
// applies migrations itself (server/db/migrate.ts) and passes a driver adapter.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  ...(process.env.DATABASE_URL ? { datasource: { url: process.env.DATABASE_URL } } : {}),
});
