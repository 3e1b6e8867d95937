-- CreateTable
CREATE TABLE "PortalRateBudget" (
    "memberId" TEXT NOT NULL,
    "level" DOUBLE PRECISION NOT NULL,
    "drainedAt" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "PortalRateBudget_pkey" PRIMARY KEY ("memberId")
);
