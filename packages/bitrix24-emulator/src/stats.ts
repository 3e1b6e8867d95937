/** Counters the tests read through the handle. Plain data so a snapshot is just structuredClone. */
export interface PortalStats {
  restRequests: number;
  restByMethod: Record<string, number>;
  refreshRequests: number;
  refreshFailures: number;
  /** The OAuth server's app.info asked about a token of this portal. */
  appInfoRequests: number;
  codeGrants: number;
  responses503: number;
  rateLimited: number;
  operatingBlocked: number;
  injectedErrors: number;
  droppedConnections: number;
}

export interface StatsData {
  /** All /oauth/token/ requests, including those whose portal could not be determined. */
  oauth: {
    requests: number;
    refreshRequests: number;
    refreshFailures: number;
    codeGrants: number;
    failures: number;
    /** The OAuth server's own app.info (token inspection; also counted in `requests`). */
    appInfoRequests: number;
  };
  portals: Record<string, PortalStats>;
  responses503: number;
}

const emptyPortal = (): PortalStats => ({
  restRequests: 0,
  restByMethod: {},
  refreshRequests: 0,
  refreshFailures: 0,
  appInfoRequests: 0,
  codeGrants: 0,
  responses503: 0,
  rateLimited: 0,
  operatingBlocked: 0,
  injectedErrors: 0,
  droppedConnections: 0,
});

export class Stats {
  data: StatsData = Stats.empty();

  static empty(): StatsData {
    return {
      oauth: {
        requests: 0,
        refreshRequests: 0,
        refreshFailures: 0,
        codeGrants: 0,
        failures: 0,
        appInfoRequests: 0,
      },
      portals: {},
      responses503: 0,
    };
  }

  portal(memberId: string): PortalStats {
    this.data.portals[memberId] ??= emptyPortal();
    return this.data.portals[memberId];
  }

  /** Counts a REST answer; 503s are counted in both the portal and the total. */
  restAnswer(memberId: string, status: number): void {
    if (status === 503) {
      this.portal(memberId).responses503++;
      this.data.responses503++;
    }
  }

  snapshot(): StatsData {
    return structuredClone(this.data);
  }

  reset(): void {
    this.data = Stats.empty();
  }
}
