-- AlterTable
ALTER TABLE "Installation" ADD COLUMN     "healCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "healedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "PendingInstall" (
    "grantHash" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,
    "clientEndpoint" TEXT NOT NULL,
    "serverEndpoint" TEXT,
    "scope" TEXT,
    "accessToken" TEXT NOT NULL,
    "refreshToken" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "userId" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingInstall_pkey" PRIMARY KEY ("grantHash")
);
