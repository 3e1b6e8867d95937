-- CreateTable
CREATE TABLE "PortalRateBudget" (
    "memberId" TEXT NOT NULL PRIMARY KEY,
    "level" REAL NOT NULL,
    "drainedAt" REAL NOT NULL
);
