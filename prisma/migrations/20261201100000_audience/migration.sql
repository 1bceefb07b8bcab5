-- Audience tokens: a workspace's audience tree, the setting that makes publishable
-- keys need a token, and the sealed copy a signing key keeps (AES-256-GCM under the
-- master key; other keys keep only their hash).

-- AlterTable
ALTER TABLE "workspaces" ADD COLUMN "require_audience_token" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN "sealed_secret" TEXT;

-- CreateTable
CREATE TABLE "audiences" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "parent_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audiences_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audiences_workspace_id_name_key" ON "audiences"("workspace_id", "name");

-- CreateIndex
CREATE INDEX "audiences_parent_id_idx" ON "audiences"("parent_id");

-- AddForeignKey
ALTER TABLE "audiences" ADD CONSTRAINT "audiences_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audiences" ADD CONSTRAINT "audiences_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "audiences"("id") ON DELETE NO ACTION ON UPDATE CASCADE;
