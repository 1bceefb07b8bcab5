-- CreateTable
CREATE TABLE "services" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "services_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN "paired_with_id" UUID;

-- CreateIndex
CREATE UNIQUE INDEX "services_workspace_id_slug_key" ON "services"("workspace_id", "slug");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_paired_with_id_key" ON "api_keys"("paired_with_id");

-- AddForeignKey
ALTER TABLE "services" ADD CONSTRAINT "services_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "services"("id") ON DELETE NO ACTION ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_paired_with_id_fkey" FOREIGN KEY ("paired_with_id") REFERENCES "api_keys"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Backfill: service scopes may now name only services that exist, so every slug that
-- keys already carry becomes an active service of its workspace (named after its slug).
INSERT INTO "services" ("id", "workspace_id", "slug", "name")
SELECT gen_random_uuid(), "workspace_id", "slug", "slug"
FROM (
    SELECT DISTINCT "workspace_id", split_part("scope", '.', 2) AS "slug"
    FROM "api_keys", unnest("scopes") AS "scope"
    WHERE "scope" ~ '^service\.[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?\.[a-z][a-z0-9_]{0,31}$'
) AS "used";
