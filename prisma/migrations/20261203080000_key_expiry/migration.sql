-- Expiry alerts already sent (server/webhooks/expiry.ts): one row per key, expiry and
-- threshold, written in the transaction that enqueues the key.expiring/key.expired
-- event, so each is sent once across instances and restarts. The expiry is part of
-- the key: a key given a new expiry is alerted again for the new one.

-- CreateTable
CREATE TABLE "key_expiry_alerts" (
    "key_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "threshold" TEXT NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "key_expiry_alerts_pkey" PRIMARY KEY ("key_id", "expires_at", "threshold")
);

-- CreateIndex
CREATE INDEX "api_keys_expires_at_idx" ON "api_keys"("expires_at");

-- AddForeignKey
ALTER TABLE "key_expiry_alerts" ADD CONSTRAINT "key_expiry_alerts_key_id_fkey" FOREIGN KEY ("key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Keys that expired before this job existed count as announced: upgrading must not
-- send a burst of key.expired events for keys that expired long ago.
INSERT INTO "key_expiry_alerts" ("key_id", "expires_at", "threshold")
SELECT "id", "expires_at", 'expired' FROM "api_keys" WHERE "expires_at" IS NOT NULL AND "expires_at" <= now();
