-- CreateTable
CREATE TABLE "platform_keys" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "start" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_reason" TEXT,

    CONSTRAINT "platform_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "platform_key_usage" (
    "key_id" UUID NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "operation" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "platform_key_usage_pkey" PRIMARY KEY ("key_id","hour","operation","outcome")
);

-- CreateIndex
CREATE UNIQUE INDEX "platform_keys_hash_key" ON "platform_keys"("hash");

-- CreateIndex
CREATE INDEX "platform_keys_created_at_idx" ON "platform_keys"("created_at");

-- AddForeignKey
ALTER TABLE "platform_keys" ADD CONSTRAINT "platform_keys_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "platform_key_usage" ADD CONSTRAINT "platform_key_usage_key_id_fkey" FOREIGN KEY ("key_id") REFERENCES "platform_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;
