-- AlterTable
ALTER TABLE "Installation" ADD COLUMN "installGrantHash" TEXT;
