-- Keys brought from another system (`npm run admin -- import-keys`): when a key
-- was imported, and the fixed beginnings of imported keys whose format lacks
-- Keyward's checksum, so a lookup knows which malformed-looking keys to try by hash.

-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN "imported_at" TIMESTAMPTZ(3),
ADD COLUMN "foreign_prefix" TEXT;

-- CreateTable
CREATE TABLE "imported_key_prefixes" (
    "prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "imported_key_prefixes_pkey" PRIMARY KEY ("prefix")
);
