import type { Db } from '../db/client.js';
import type { TokenCipher } from './cipher.js';
import {
  type BindingRecord,
  type BindingWrite,
  INSTALLATION_STATUSES,
  type Installation,
  type InstallationInput,
  type InstallationStatus,
  type InstallationStore,
  type InstallationSummary,
  type InstallWrite,
  type PendingInstall,
  type ResealReport,
  type SaveOptions,
  type StoredTokens,
  type TokenGrant,
} from './types.js';

type InstallationRow = NonNullable<Awaited<ReturnType<Db['installation']['findUnique']>>>;
type TokenRow = NonNullable<Awaited<ReturnType<Db['oAuthToken']['findUnique']>>>;

/** Rows read per query while re-sealing, so memory stays flat however many portals there are. */
const RESEAL_PAGE = 200;

const emptyReport = (): ResealReport => ({ resealed: 0, current: 0, unreadable: [], skipped: 0 });

/** A binding as a row holds it: its unique key and title. */
type BindingRow = { kind: string; code: string; handler: string; title: string | null };

/** A binding's unique key, compared exactly (as the unique index compares it). */
const bindingKey = (b: BindingRow) => `${b.kind}\0${b.code}\0${b.handler}`;
const keyOf = ({ kind, code, handler }: BindingRow) => ({ kind, code, handler });

/** What a status change writes to the installation row. */
function statusData(status: InstallationStatus, error?: string | null) {
  return {
    status,
    ...(status === 'uninstalled' && { uninstalledAt: new Date() }),
    ...(status === 'active' && { installedAt: new Date(), uninstalledAt: null }),
    ...(error !== undefined && { lastError: error, lastErrorAt: error === null ? null : new Date() }),
  };
}

/** What a binding diff changes: rows no longer wanted, rows to add, rows whose title changed. */
interface BindingDiff {
  stale: BindingRow[];
  added: BindingRow[];
  retitled: BindingRow[];
}

/** The diff from `recorded` to exactly `bindings`, rows named by their unique key. */
function bindingDiff(bindings: readonly BindingRow[], recorded: readonly BindingRow[]): BindingDiff {
  const wanted = new Set(bindings.map(bindingKey));
  const have = new Map(recorded.map((row) => [bindingKey(row), row]));
  return {
    stale: recorded.filter((row) => !wanted.has(bindingKey(row))),
    added: bindings.filter((b) => !have.has(bindingKey(b))),
    retitled: bindings.filter((b) => {
      const row = have.get(bindingKey(b));
      return row !== undefined && row.title !== b.title;
    }),
  };
}

/** The statements of a binding diff (none when nothing changes), on `db` or a transaction. */
function bindingStatements(db: Pick<Db, 'binding'>, installationId: number, diff: BindingDiff) {
  const { stale, added, retitled } = diff;
  return [
    ...(stale.length ? [db.binding.deleteMany({ where: { installationId, OR: stale.map(keyOf) } })] : []),
    ...(added.length
      ? [db.binding.createMany({ data: added.map((b) => ({ installationId, ...keyOf(b), title: b.title })) })]
      : []),
    ...retitled.map((b) =>
      db.binding.updateMany({ where: { installationId, ...keyOf(b) }, data: { title: b.title } }),
    ),
  ];
}

/** A unique index refused the write. */
const isUniqueViolation = (error: unknown) => (error as { code?: unknown }).code === 'P2002';

function asStatus(value: string): InstallationStatus {
  return (INSTALLATION_STATUSES as readonly string[]).includes(value) ? (value as InstallationStatus) : 'new';
}

export class PrismaInstallationStore implements InstallationStore {
  /** Told after every write to an installation row (the widget lookup cache forgets then). */
  private readonly writeListeners: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly cipher: TokenCipher,
  ) {}

  onInstallationWrite(listener: () => void): void {
    this.writeListeners.push(listener);
  }

  private written(): void {
    for (const listener of this.writeListeners) listener();
  }

  private toInstallation(row: InstallationRow): Installation {
    return {
      id: row.id,
      memberId: row.memberId,
      domain: row.domain,
      clientEndpoint: row.clientEndpoint,
      serverEndpoint: row.serverEndpoint,
      applicationToken: row.applicationToken === null ? null : this.cipher.open(row.applicationToken),
      status: asStatus(row.status),
      scope: row.scope,
      lang: row.lang,
      installedAt: row.installedAt,
      uninstalledAt: row.uninstalledAt,
      lastError: row.lastError,
      lastErrorAt: row.lastErrorAt,
      installGrantHash: row.installGrantHash,
      healCount: row.healCount,
      healedAt: row.healedAt,
    };
  }

  private toTokens(row: TokenRow): StoredTokens {
    return {
      accessToken: this.cipher.open(row.accessToken),
      refreshToken: this.cipher.open(row.refreshToken),
      expiresAt: row.expiresAt,
      userId: row.userId,
      version: row.version,
      refreshedAt: row.refreshedAt,
      leaseOwner: row.refreshLeaseOwner,
      leaseUntil: row.refreshLeaseUntil,
    };
  }

  private sealedTokens(tokens: TokenGrant) {
    return {
      accessToken: this.cipher.seal(tokens.accessToken),
      refreshToken: this.cipher.seal(tokens.refreshToken),
      expiresAt: tokens.expiresAt,
      userId: tokens.userId ?? null,
    };
  }

  async find(memberId: string): Promise<Installation | null> {
    const row = await this.db.installation.findUnique({ where: { memberId } });
    return row ? this.toInstallation(row) : null;
  }

  async findById(id: number): Promise<Installation | null> {
    const row = await this.db.installation.findUnique({ where: { id } });
    return row ? this.toInstallation(row) : null;
  }

  async list(): Promise<Installation[]> {
    const rows = await this.db.installation.findMany({ orderBy: { id: 'asc' } });
    return rows.map((row) => this.toInstallation(row));
  }

  async summaries(): Promise<InstallationSummary[]> {
    const rows = await this.db.installation.findMany({
      orderBy: { id: 'asc' },
      select: {
        id: true,
        memberId: true,
        domain: true,
        status: true,
        lang: true,
        installedAt: true,
        lastError: true,
        lastErrorAt: true,
        healCount: true,
        token: { select: { expiresAt: true, refreshedAt: true } },
      },
    });
    return rows.map(({ token, status, ...row }) => ({
      ...row,
      status: asStatus(status),
      tokenExpiresAt: token?.expiresAt ?? null,
      tokenRefreshedAt: token?.refreshedAt ?? null,
    }));
  }

  /** The installation row's fields `input` names (undefined ones are left as stored). */
  private installationFields(input: InstallationInput) {
    return {
      domain: input.domain,
      clientEndpoint: input.clientEndpoint,
      ...(input.serverEndpoint !== undefined && { serverEndpoint: input.serverEndpoint }),
      ...(input.applicationToken !== undefined && {
        applicationToken: input.applicationToken === null ? null : this.cipher.seal(input.applicationToken),
      }),
      ...(input.scope !== undefined && { scope: input.scope }),
      ...(input.lang !== undefined && { lang: input.lang }),
      ...(input.status !== undefined && { status: input.status }),
      ...(input.installGrantHash !== undefined && { installGrantHash: input.installGrantHash }),
    };
  }

  /** Tokens as an install stores them: refreshedAt is when the stored refresh token was received (the keep-alive ages it from here). */
  private installedTokens(tokens: TokenGrant) {
    return { ...this.sealedTokens(tokens), refreshedAt: new Date() };
  }

  /** The pending-install cleanup of a completed install: its own grant, and any abandoned ones (the admin never came back). */
  private completedPending(db: Pick<Db, 'pendingInstall'>, grantHash: string) {
    const weekAgo = new Date(Date.now() - 7 * 86_400_000);
    return db.pendingInstall.deleteMany({
      where: { OR: [{ grantHash }, { createdAt: { lt: weekAgo } }] },
    });
  }

  async save(
    input: InstallationInput,
    tokens?: TokenGrant,
    options: SaveOptions = {},
  ): Promise<Installation> {
    const fields = this.installationFields(input);
    const healed = options.healed ? { healCount: { increment: 1 }, healedAt: new Date() } : {};
    const saved = await this.db.$transaction(async (tx) => {
      const row = await tx.installation.upsert({
        where: { memberId: input.memberId },
        create: { memberId: input.memberId, ...fields },
        update: { ...fields, ...healed },
      });
      if (options.completesPending !== undefined) {
        await this.completedPending(tx, options.completesPending);
      }
      if (tokens) {
        const sealed = this.installedTokens(tokens);
        await tx.oAuthToken.upsert({
          where: { installationId: row.id },
          create: { installationId: row.id, ...sealed },
          update: { ...sealed, version: { increment: 1 }, refreshLeaseOwner: null, refreshLeaseUntil: null },
        });
      }
      return this.toInstallation(row);
    });
    this.written();
    return saved;
  }

  async saveInstall(
    input: InstallationInput,
    tokens: TokenGrant,
    write: InstallWrite,
  ): Promise<Installation> {
    const saved =
      (write.existingId === null ? await this.createInstall(input, tokens, write) : null) ??
      (await this.upsertInstall(input, tokens, write, true).catch((error: unknown) => {
        // Another writer recorded one of the additions since the caller read: diff against what is stored.
        if (!isUniqueViolation(error)) throw error;
        return this.upsertInstall(input, tokens, write, false);
      }));
    this.written();
    return saved;
  }

  /**
   * A first install in two statements of one batch transaction: the pending-install cleanup, and
   * the installation created with its tokens and bindings nested. Null when the member_id is
   * taken meanwhile (a concurrent install of the same portal): the caller updates it then.
   */
  private async createInstall(
    input: InstallationInput,
    tokens: TokenGrant,
    write: InstallWrite,
  ): Promise<Installation | null> {
    const bindings = write.bindings.map((b) => ({ ...keyOf(b), title: b.title }));
    try {
      const [, row] = await this.db.$transaction([
        this.completedPending(this.db, write.completesPending),
        this.db.installation.create({
          data: {
            memberId: input.memberId,
            ...this.installationFields(input),
            ...(write.status && statusData(write.status.status, write.status.error)),
            token: { create: this.installedTokens(tokens) },
            ...(bindings.length > 0 && { bindings: { createMany: { data: bindings } } }),
          },
        }),
      ]);
      return this.toInstallation(row);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  /**
   * An install over an installation that may exist: one transaction of the installation upsert
   * (with its final status), the pending-install cleanup, the token upsert and the bindings' diff,
   * against the caller's reading when `trustRecorded` and it is of this installation, else
   * against what is stored.
   */
  private upsertInstall(
    input: InstallationInput,
    tokens: TokenGrant,
    write: InstallWrite,
    trustRecorded: boolean,
  ): Promise<Installation> {
    const fields = {
      ...this.installationFields(input),
      ...(write.status && statusData(write.status.status, write.status.error)),
    };
    return this.db.$transaction(async (tx) => {
      const row = await tx.installation.upsert({
        where: { memberId: input.memberId },
        create: { memberId: input.memberId, ...fields },
        update: fields,
      });
      await this.completedPending(tx, write.completesPending);
      const sealed = this.installedTokens(tokens);
      await tx.oAuthToken.upsert({
        where: { installationId: row.id },
        create: { installationId: row.id, ...sealed },
        update: { ...sealed, version: { increment: 1 }, refreshLeaseOwner: null, refreshLeaseUntil: null },
      });
      const recorded =
        trustRecorded && row.id === write.existingId
          ? write.recorded
          : await tx.binding.findMany({
              where: { installationId: row.id },
              select: { kind: true, code: true, handler: true, title: true },
            });
      for (const statement of bindingStatements(tx, row.id, bindingDiff(write.bindings, recorded))) {
        await statement;
      }
      return this.toInstallation(row);
    });
  }

  async setStatus(id: number, status: InstallationStatus, error?: string | null): Promise<void> {
    await this.db.installation.update({ where: { id }, data: statusData(status, error) });
    this.written();
  }

  async setApplicationToken(id: number, applicationToken: string): Promise<void> {
    await this.db.installation.update({
      where: { id },
      data: { applicationToken: this.cipher.seal(applicationToken) },
    });
    this.written();
  }

  async getTokens(installationId: number): Promise<StoredTokens | null> {
    const row = await this.db.oAuthToken.findUnique({ where: { installationId } });
    return row ? this.toTokens(row) : null;
  }

  async replaceTokens(
    installationId: number,
    expectedVersion: number,
    tokens: TokenGrant,
  ): Promise<StoredTokens | null> {
    const { count } = await this.db.oAuthToken.updateMany({
      where: { installationId, version: expectedVersion },
      data: {
        ...this.sealedTokens(tokens),
        version: { increment: 1 },
        refreshedAt: new Date(),
        refreshLeaseOwner: null,
        refreshLeaseUntil: null,
      },
    });
    return count === 1 ? this.getTokens(installationId) : null;
  }

  async acquireRefreshLease(
    installationId: number,
    expectedVersion: number,
    owner: string,
    until: Date,
  ): Promise<boolean> {
    const now = new Date();
    // One conditional UPDATE: atomic on both databases, so at most one process wins.
    const { count } = await this.db.oAuthToken.updateMany({
      where: {
        installationId,
        version: expectedVersion,
        OR: [{ refreshLeaseUntil: null }, { refreshLeaseUntil: { lt: now } }, { refreshLeaseOwner: owner }],
      },
      data: { refreshLeaseOwner: owner, refreshLeaseUntil: until },
    });
    return count === 1;
  }

  async releaseRefreshLease(installationId: number, owner: string): Promise<void> {
    await this.db.oAuthToken.updateMany({
      where: { installationId, refreshLeaseOwner: owner },
      data: { refreshLeaseOwner: null, refreshLeaseUntil: null },
    });
  }

  async deleteTokens(installationId: number): Promise<void> {
    await this.db.oAuthToken.deleteMany({ where: { installationId } });
  }

  async listBindings(installationId: number): Promise<BindingRecord[]> {
    const rows = await this.db.binding.findMany({ where: { installationId }, orderBy: { id: 'asc' } });
    return rows.map((row) => ({
      kind: row.kind === 'event' ? 'event' : 'placement',
      code: row.code,
      handler: row.handler,
      title: row.title,
      boundAt: row.boundAt,
    }));
  }

  async setBindings(
    installationId: number,
    bindings: Omit<BindingRecord, 'boundAt'>[],
    options: BindingWrite = {},
  ): Promise<void> {
    const { recorded, status } = options;
    if (recorded === undefined) {
      await this.writeBindings(installationId, bindings, await this.recordedBindings(installationId), status);
      return;
    }
    try {
      await this.writeBindings(installationId, bindings, recorded, status);
    } catch (error) {
      // Another writer recorded some of them since the caller read: diff against what is stored.
      if (!isUniqueViolation(error)) throw error;
      await this.writeBindings(installationId, bindings, await this.recordedBindings(installationId), status);
    }
  }

  private recordedBindings(installationId: number) {
    return this.db.binding.findMany({
      where: { installationId },
      select: { kind: true, code: true, handler: true, title: true },
    });
  }

  /**
   * A diff against `recorded`, not delete-all-and-insert: a rebind that changes nothing writes
   * nothing. Rows are named by their unique key, so the diff needs no ids; only statements with
   * work are sent, all in one transaction.
   */
  private async writeBindings(
    installationId: number,
    bindings: Omit<BindingRecord, 'boundAt'>[],
    recorded: readonly BindingRow[],
    status: BindingWrite['status'],
  ): Promise<void> {
    const writes = [
      ...bindingStatements(this.db, installationId, bindingDiff(bindings, recorded)),
      ...(status
        ? [
            this.db.installation.update({
              where: { id: installationId },
              data: statusData(status.status, status.error),
            }),
          ]
        : []),
    ];
    if (writes.length === 0) return;
    await (writes.length === 1 ? writes[0] : this.db.$transaction(writes));
    if (status) this.written();
  }

  async getOptions(installationId: number): Promise<Record<string, string>> {
    const rows = await this.db.appOption.findMany({ where: { installationId } });
    return Object.fromEntries(rows.map((row) => [row.key, row.value]));
  }

  async setOptions(installationId: number, options: Record<string, string>): Promise<void> {
    await this.db.$transaction(
      Object.entries(options).map(([key, value]) =>
        this.db.appOption.upsert({
          where: { installationId_key: { installationId, key } },
          create: { installationId, key, value },
          update: { value },
        }),
      ),
    );
  }

  async delete(id: number): Promise<void> {
    await this.db.installation.delete({ where: { id } });
    this.written();
  }

  async savePendingInstall(pending: PendingInstall): Promise<void> {
    const { grantHash, ...rest } = pending;
    const data = {
      memberId: rest.memberId,
      clientEndpoint: rest.clientEndpoint,
      serverEndpoint: rest.serverEndpoint,
      scope: rest.scope,
      ...this.sealedTokens(rest),
    };
    // One statement: this write is all that stands between the OAuth answer and its record.
    await this.db.pendingInstall.upsert({
      where: { grantHash },
      create: { grantHash, ...data },
      update: data,
    });
  }

  async findPendingInstall(grantHash: string): Promise<PendingInstall | null> {
    const row = await this.db.pendingInstall.findUnique({ where: { grantHash } });
    if (!row) return null;
    return {
      grantHash: row.grantHash,
      memberId: row.memberId,
      clientEndpoint: row.clientEndpoint,
      serverEndpoint: row.serverEndpoint,
      scope: row.scope,
      accessToken: this.cipher.open(row.accessToken),
      refreshToken: this.cipher.open(row.refreshToken),
      expiresAt: row.expiresAt,
      userId: row.userId,
    };
  }

  async deletePendingInstall(grantHash: string): Promise<void> {
    await this.db.pendingInstall.deleteMany({ where: { grantHash } });
  }

  async resealSecrets(): Promise<{ tokens: ResealReport; applicationTokens: ResealReport }> {
    const report = {
      tokens: await this.resealTokens(),
      applicationTokens: await this.resealApplicationTokens(),
    };
    this.written();
    return report;
  }

  /** Opens with any configured key, seals with the current one; null when no key opens it. */
  private resealed(stored: string): string | null {
    try {
      return this.cipher.seal(this.cipher.open(stored));
    } catch {
      return null;
    }
  }

  private async resealTokens(): Promise<ResealReport> {
    const report = emptyReport();
    for (let after = 0; ; ) {
      const rows = await this.db.oAuthToken.findMany({
        where: { installationId: { gt: after } },
        orderBy: { installationId: 'asc' },
        take: RESEAL_PAGE,
        select: {
          installationId: true,
          accessToken: true,
          refreshToken: true,
          installation: { select: { memberId: true } },
        },
      });
      if (rows.length === 0) return report;
      after = rows.at(-1)!.installationId;
      for (const row of rows) {
        if (this.cipher.isCurrent(row.accessToken) && this.cipher.isCurrent(row.refreshToken)) {
          report.current += 1;
          continue;
        }
        const accessToken = this.resealed(row.accessToken);
        const refreshToken = this.resealed(row.refreshToken);
        if (accessToken === null || refreshToken === null) {
          report.unreadable.push(row.installation.memberId);
          continue;
        }
        // Conditional on the old values: a refresh that wrote new tokens meanwhile wins. The
        // version is not bumped, so a refresh in flight still completes its compare-and-set.
        const { count } = await this.db.oAuthToken.updateMany({
          where: {
            installationId: row.installationId,
            accessToken: row.accessToken,
            refreshToken: row.refreshToken,
          },
          data: { accessToken, refreshToken },
        });
        if (count === 1) report.resealed += 1;
        else report.skipped += 1;
      }
    }
  }

  private async resealApplicationTokens(): Promise<ResealReport> {
    const report = emptyReport();
    for (let after = 0; ; ) {
      const rows = await this.db.installation.findMany({
        where: { id: { gt: after }, applicationToken: { not: null } },
        orderBy: { id: 'asc' },
        take: RESEAL_PAGE,
        select: { id: true, memberId: true, applicationToken: true },
      });
      if (rows.length === 0) return report;
      after = rows.at(-1)!.id;
      for (const row of rows) {
        const stored = row.applicationToken!;
        if (this.cipher.isCurrent(stored)) {
          report.current += 1;
          continue;
        }
        const applicationToken = this.resealed(stored);
        if (applicationToken === null) {
          report.unreadable.push(row.memberId);
          continue;
        }
        const { count } = await this.db.installation.updateMany({
          where: { id: row.id, applicationToken: stored },
          data: { applicationToken },
        });
        if (count === 1) report.resealed += 1;
        else report.skipped += 1;
      }
    }
  }
}
