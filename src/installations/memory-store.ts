// The installation store in process memory, for unit tests that need a store but not a
// database. It keeps the rules the database store keeps (test/installations/memory-store.test.ts
// runs the same checks on both): compare-and-set on the token version, a refresh lease that
// expires by the injected clock, bindings written as a diff, tokens, bindings and options
// deleted with their installation, writes naming a missing installation refused. Every read
// happens when it is called and answers copies, as a query would.
import type {
  BindingRecord,
  BindingWrite,
  Installation,
  InstallationInput,
  InstallationStatus,
  InstallationStore,
  InstallationSummary,
  InstallWrite,
  PendingInstall,
  ResealReport,
  SaveOptions,
  StoredTokens,
  TokenGrant,
} from './types.js';

/** Milliseconds since the epoch; every time the store records comes from it. */
export interface StoreClock {
  now(): number;
}

/** A write named a row that does not exist (the database store fails there too). */
export class MissingRecordError extends Error {
  override name = 'MissingRecordError';
}

interface StoredBinding extends BindingRecord {
  id: number;
}

interface PendingRow extends PendingInstall {
  userId: number | null;
  createdAt: Date;
}

/** What several stores share when they play processes on one database. */
class MemoryData {
  nextInstallationId = 1;
  nextBindingId = 1;
  readonly installations = new Map<number, Installation>();
  readonly tokens = new Map<number, StoredTokens>();
  readonly bindings = new Map<number, StoredBinding[]>();
  readonly options = new Map<number, Map<string, string>>();
  readonly pending = new Map<string, PendingRow>();
}

const WEEK_MS = 7 * 86_400_000;

const bindingKey = (b: { kind: string; code: string; handler: string }) =>
  `${b.kind}\0${b.code}\0${b.handler}`;

const emptyReport = (): ResealReport => ({ resealed: 0, current: 0, unreadable: [], skipped: 0 });

export class MemoryInstallationStore implements InstallationStore {
  private readonly writeListeners: (() => void)[] = [];
  private data = new MemoryData();

  constructor(private readonly clock: StoreClock = { now: () => Date.now() }) {}

  /** A second store over the same data with its own listeners: another process on the same database. */
  otherProcess(clock: StoreClock = this.clock): MemoryInstallationStore {
    const other = new MemoryInstallationStore(clock);
    other.data = this.data;
    return other;
  }

  /** Told after every write to an installation row, as PrismaInstallationStore tells its listeners. */
  onInstallationWrite(listener: () => void): void {
    this.writeListeners.push(listener);
  }

  private written(): void {
    for (const listener of this.writeListeners) listener();
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  private installation(id: number): Installation {
    const row = this.data.installations.get(id);
    if (!row) throw new MissingRecordError(`installation ${id} not found`);
    return row;
  }

  async find(memberId: string): Promise<Installation | null> {
    for (const row of this.data.installations.values()) {
      if (row.memberId === memberId) return structuredClone(row);
    }
    return null;
  }

  async findById(id: number): Promise<Installation | null> {
    const row = this.data.installations.get(id);
    return row ? structuredClone(row) : null;
  }

  async list(): Promise<Installation[]> {
    return structuredClone(this.sortedInstallations());
  }

  async summaries(): Promise<InstallationSummary[]> {
    const summaries = this.sortedInstallations().map((row) => {
      const token = this.data.tokens.get(row.id);
      return {
        id: row.id,
        memberId: row.memberId,
        domain: row.domain,
        status: row.status,
        lang: row.lang,
        installedAt: row.installedAt,
        lastError: row.lastError,
        lastErrorAt: row.lastErrorAt,
        healCount: row.healCount,
        tokenExpiresAt: token?.expiresAt ?? null,
        tokenRefreshedAt: token?.refreshedAt ?? null,
      };
    });
    return structuredClone(summaries);
  }

  private sortedInstallations(): Installation[] {
    return [...this.data.installations.values()].sort((a, b) => a.id - b.id);
  }

  async save(
    input: InstallationInput,
    tokens?: TokenGrant,
    options: SaveOptions = {},
  ): Promise<Installation> {
    const row = this.saveNow(input, tokens, options);
    this.written();
    return structuredClone(row);
  }

  async saveInstall(
    input: InstallationInput,
    tokens: TokenGrant,
    write: InstallWrite,
  ): Promise<Installation> {
    const existing = this.rowOf(input.memberId);
    const stored = existing ? (this.data.bindings.get(existing.id) ?? []) : [];
    // As the database store: the caller's reading holds for the installation it was read of; a
    // first install another writer made meanwhile, or a row made anew, is diffed against what is stored.
    const read = existing && existing.id === write.existingId ? write.recorded : stored;
    // Planned before anything is written: a refused binding write leaves everything as it was.
    const plan = this.bindingPlan(stored, write.bindings, read);
    const row = this.saveNow(input, tokens, { completesPending: write.completesPending });
    this.applyBindings(row.id, plan);
    const final = write.status
      ? { ...row, ...this.statusFields(write.status.status, write.status.error) }
      : row;
    this.data.installations.set(final.id, final);
    this.written();
    return structuredClone(final);
  }

  private rowOf(memberId: string): Installation | undefined {
    return [...this.data.installations.values()].find((row) => row.memberId === memberId);
  }

  /** `save` without telling the listeners: answers the stored row (not a copy). */
  private saveNow(
    input: InstallationInput,
    tokens: TokenGrant | undefined,
    options: SaveOptions,
  ): Installation {
    const now = this.now();
    const fields: Partial<Installation> = {
      domain: input.domain,
      clientEndpoint: input.clientEndpoint,
      ...(input.serverEndpoint !== undefined && { serverEndpoint: input.serverEndpoint }),
      ...(input.applicationToken !== undefined && { applicationToken: input.applicationToken }),
      ...(input.scope !== undefined && { scope: input.scope }),
      ...(input.lang !== undefined && { lang: input.lang }),
      ...(input.status !== undefined && { status: input.status }),
      ...(input.installGrantHash !== undefined && { installGrantHash: input.installGrantHash }),
    };
    const existing = this.rowOf(input.memberId);
    let row: Installation;
    if (existing) {
      row = { ...existing, ...fields };
      // Counted on an update only: a heal restores an installation that exists.
      if (options.healed) row = { ...row, healCount: row.healCount + 1, healedAt: now };
    } else {
      row = {
        id: this.data.nextInstallationId++,
        memberId: input.memberId,
        domain: input.domain,
        clientEndpoint: input.clientEndpoint,
        serverEndpoint: null,
        applicationToken: null,
        status: 'new',
        scope: null,
        lang: null,
        installedAt: null,
        uninstalledAt: null,
        lastError: null,
        lastErrorAt: null,
        installGrantHash: null,
        healCount: 0,
        healedAt: null,
        ...fields,
      };
    }
    this.data.installations.set(row.id, row);
    if (options.completesPending !== undefined) {
      const weekAgo = now.getTime() - WEEK_MS;
      for (const [grantHash, pending] of this.data.pending) {
        if (grantHash === options.completesPending || pending.createdAt.getTime() < weekAgo)
          this.data.pending.delete(grantHash);
      }
    }
    if (tokens) {
      const previous = this.data.tokens.get(row.id);
      this.data.tokens.set(row.id, {
        ...this.tokenFields(tokens),
        version: previous ? previous.version + 1 : 0,
        refreshedAt: now,
        leaseOwner: null,
        leaseUntil: null,
      });
    }
    return row;
  }

  async setStatus(id: number, status: InstallationStatus, error?: string | null): Promise<void> {
    this.data.installations.set(id, { ...this.installation(id), ...this.statusFields(status, error) });
    this.written();
  }

  private statusFields(status: InstallationStatus, error?: string | null): Partial<Installation> {
    const now = this.now();
    return {
      status,
      ...(status === 'uninstalled' && { uninstalledAt: now }),
      ...(status === 'active' && { installedAt: now, uninstalledAt: null }),
      ...(error !== undefined && { lastError: error, lastErrorAt: error === null ? null : now }),
    };
  }

  async setApplicationToken(id: number, applicationToken: string): Promise<void> {
    this.data.installations.set(id, { ...this.installation(id), applicationToken });
    this.written();
  }

  async delete(id: number): Promise<void> {
    this.installation(id);
    this.data.installations.delete(id);
    this.data.tokens.delete(id);
    this.data.bindings.delete(id);
    this.data.options.delete(id);
    this.written();
  }

  async savePendingInstall(pending: PendingInstall): Promise<void> {
    const createdAt = this.data.pending.get(pending.grantHash)?.createdAt ?? this.now();
    this.data.pending.set(pending.grantHash, {
      grantHash: pending.grantHash,
      memberId: pending.memberId,
      clientEndpoint: pending.clientEndpoint,
      serverEndpoint: pending.serverEndpoint,
      scope: pending.scope,
      ...this.tokenFields(pending),
      createdAt,
    });
  }

  async findPendingInstall(grantHash: string): Promise<PendingInstall | null> {
    const row = this.data.pending.get(grantHash);
    if (!row) return null;
    const { createdAt: _createdAt, ...pending } = row;
    return structuredClone(pending);
  }

  async deletePendingInstall(grantHash: string): Promise<void> {
    this.data.pending.delete(grantHash);
  }

  private tokenFields(tokens: TokenGrant) {
    return {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: new Date(tokens.expiresAt),
      userId: tokens.userId ?? null,
    };
  }

  async getTokens(installationId: number): Promise<StoredTokens | null> {
    const row = this.data.tokens.get(installationId);
    return row ? structuredClone(row) : null;
  }

  async replaceTokens(
    installationId: number,
    expectedVersion: number,
    tokens: TokenGrant,
  ): Promise<StoredTokens | null> {
    const row = this.data.tokens.get(installationId);
    if (!row || row.version !== expectedVersion) return null;
    const replaced: StoredTokens = {
      ...this.tokenFields(tokens),
      version: row.version + 1,
      refreshedAt: this.now(),
      leaseOwner: null,
      leaseUntil: null,
    };
    this.data.tokens.set(installationId, replaced);
    return structuredClone(replaced);
  }

  async acquireRefreshLease(
    installationId: number,
    expectedVersion: number,
    owner: string,
    until: Date,
  ): Promise<boolean> {
    const row = this.data.tokens.get(installationId);
    if (!row || row.version !== expectedVersion) return false;
    const free =
      row.leaseUntil === null || row.leaseUntil.getTime() < this.clock.now() || row.leaseOwner === owner;
    if (!free) return false;
    this.data.tokens.set(installationId, { ...row, leaseOwner: owner, leaseUntil: new Date(until) });
    return true;
  }

  async releaseRefreshLease(installationId: number, owner: string): Promise<void> {
    const row = this.data.tokens.get(installationId);
    if (row?.leaseOwner === owner)
      this.data.tokens.set(installationId, { ...row, leaseOwner: null, leaseUntil: null });
  }

  async deleteTokens(installationId: number): Promise<void> {
    this.data.tokens.delete(installationId);
  }

  async listBindings(installationId: number): Promise<BindingRecord[]> {
    return structuredClone(this.data.bindings.get(installationId) ?? []).map(
      ({ id: _id, ...binding }) => binding,
    );
  }

  async setBindings(
    installationId: number,
    bindings: Omit<BindingRecord, 'boundAt'>[],
    options: BindingWrite = {},
  ): Promise<void> {
    const stored = this.data.bindings.get(installationId) ?? [];
    const plan = this.bindingPlan(stored, bindings, options.recorded ?? stored);
    const { status } = options;
    if (!plan.changed && !status) return;
    // Refused as the database's foreign key refuses it, before anything changes.
    const installation = this.installation(installationId);
    this.applyBindings(installationId, plan);
    if (status) {
      this.data.installations.set(installationId, {
        ...installation,
        ...this.statusFields(status.status, status.error),
      });
      this.written();
    }
  }

  /**
   * The rows `stored` become to record exactly `bindings`, diffed against `read` (the caller's
   * reading) unless another writer has recorded one of its additions since (the unique index
   * refuses it, and the database store reads again). Refuses, as the unique index does, an
   * addition named twice.
   */
  private bindingPlan(
    stored: readonly StoredBinding[],
    bindings: readonly Omit<BindingRecord, 'boundAt'>[],
    read: readonly Omit<BindingRecord, 'boundAt'>[],
  ) {
    const storedKeys = new Set(stored.map(bindingKey));
    const readKeys = new Set(read.map(bindingKey));
    const outdated = bindings.some((b) => !readKeys.has(bindingKey(b)) && storedKeys.has(bindingKey(b)));
    const recorded = outdated ? stored : read;
    const wanted = new Set(bindings.map(bindingKey));
    const have = new Map(recorded.map((row) => [bindingKey(row), row]));
    const added = bindings.filter((b) => !have.has(bindingKey(b)));
    const stale = new Set(recorded.filter((row) => !wanted.has(bindingKey(row))).map(bindingKey));
    const retitled = bindings.filter((b) => {
      const row = have.get(bindingKey(b));
      return row !== undefined && row.title !== b.title;
    });
    if (new Set(added.map(bindingKey)).size !== added.length) throw new Error('the same binding named twice');
    const titles = new Map(retitled.map((b) => [bindingKey(b), b.title]));
    const kept = stored
      .filter((row) => !stale.has(bindingKey(row)))
      .map((row) => {
        const key = bindingKey(row);
        return titles.has(key) ? { ...row, title: titles.get(key)! } : row;
      });
    return { kept, added, changed: stale.size > 0 || added.length > 0 || retitled.length > 0 };
  }

  private applyBindings(
    installationId: number,
    plan: ReturnType<MemoryInstallationStore['bindingPlan']>,
  ): void {
    if (!plan.changed) return;
    const boundAt = this.now();
    const created = plan.added.map((b) => ({
      id: this.data.nextBindingId++,
      kind: b.kind,
      code: b.code,
      handler: b.handler,
      title: b.title,
      boundAt,
    }));
    this.data.bindings.set(installationId, [...plan.kept, ...created]);
  }

  async getOptions(installationId: number): Promise<Record<string, string>> {
    return Object.fromEntries(this.data.options.get(installationId) ?? []);
  }

  async setOptions(installationId: number, options: Record<string, string>): Promise<void> {
    const entries = Object.entries(options);
    if (entries.length === 0) return;
    this.installation(installationId);
    const stored = this.data.options.get(installationId) ?? new Map<string, string>();
    for (const [key, value] of entries) stored.set(key, value);
    this.data.options.set(installationId, stored);
  }

  /** Nothing here is sealed: every secret counts as current, as with a key that sealed them all. */
  async resealSecrets(): Promise<{ tokens: ResealReport; applicationTokens: ResealReport }> {
    const tokens = emptyReport();
    tokens.current = this.data.tokens.size;
    const applicationTokens = emptyReport();
    applicationTokens.current = [...this.data.installations.values()].filter(
      (row) => row.applicationToken !== null,
    ).length;
    this.written();
    return { tokens, applicationTokens };
  }
}
