-- AlterTable
ALTER TABLE "Installation" ADD COLUMN "healCount" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Installation" ADD COLUMN "healedAt" DATETIME;

-- CreateTable
CREATE TABLE "PendingInstall" (
    "grantHash" TEXT NOT NULL PRIMARY KEY,
    "memberId" TEXT NOT NULL,
    "clientEndpoint" TEXT NOT NULL,
    "serverEndpoint" TEXT,
    "scope" TEXT,
    "accessToken" TEXT NOT NULL,
    "refreshToken" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "userId" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
