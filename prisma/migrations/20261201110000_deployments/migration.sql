-- Deploy-gated keys: published snapshots of a workspace's key state.

-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN "revoked_immediately" BOOLEAN NOT NULL DEFAULT false;

-- CreateEnum
CREATE TYPE "DeploymentKind" AS ENUM ('DEPLOY', 'ROLLBACK', 'ENABLE');

-- CreateTable
CREATE TABLE "deployments" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" "DeploymentKind" NOT NULL,
    "note" TEXT,
    "source_version" INTEGER,
    "keys_enabled" BOOLEAN NOT NULL,
    "key_count" INTEGER NOT NULL,
    "added" INTEGER NOT NULL,
    "removed" INTEGER NOT NULL,
    "changed" INTEGER NOT NULL,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "deployments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployment_keys" (
    "deployment_id" UUID NOT NULL,
    "key_id" UUID NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "allowed_origins" TEXT[],
    "allowed_ips" TEXT[],
    "expires_at" TIMESTAMPTZ(3),
    "grace_until" TIMESTAMPTZ(3),
    "rate_limit_limit" INTEGER,
    "rate_limit_window_seconds" INTEGER,
    "metadata" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "deployment_keys_pkey" PRIMARY KEY ("deployment_id","key_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "deployments_workspace_id_version_key" ON "deployments"("workspace_id", "version");

-- CreateIndex
CREATE UNIQUE INDEX "deployment_keys_deployment_id_hash_key" ON "deployment_keys"("deployment_id", "hash");

-- AddForeignKey
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment_keys" ADD CONSTRAINT "deployment_keys_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A published deployment never changes: refuse UPDATE at the database itself.
-- (DELETE stays possible so that deleting a workspace takes its history along.)
CREATE FUNCTION "deployments_immutable"() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is immutable: publish a new deployment instead', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "deployments_no_update"
  BEFORE UPDATE ON "deployments"
  FOR EACH ROW EXECUTE FUNCTION "deployments_immutable"();

CREATE TRIGGER "deployment_keys_no_update"
  BEFORE UPDATE ON "deployment_keys"
  FOR EACH ROW EXECUTE FUNCTION "deployments_immutable"();
