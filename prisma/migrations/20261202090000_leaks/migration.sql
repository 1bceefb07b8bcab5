-- Leaked-key reports: what a workspace does with a key reported as leaked.

-- CreateEnum
CREATE TYPE "LeakPolicy" AS ENUM ('REVOKE', 'NOTIFY');

-- AlterTable
ALTER TABLE "workspaces" ADD COLUMN "leak_policy" "LeakPolicy" NOT NULL DEFAULT 'REVOKE';
