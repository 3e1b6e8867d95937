import type { Db } from '../db/client.js';
import type { TokenCipher } from './cipher.js';
import {
  type BindingRecord,
  INSTALLATION_STATUSES,
  type Installation,
  type InstallationInput,
  type InstallationStatus,
  type InstallationStore,
  type StoredTokens,
  type TokenGrant,
} from './types.js';

type InstallationRow = NonNullable<Awaited<ReturnType<Db['installation']['findUnique']>>>;
type TokenRow = NonNullable<Awaited<ReturnType<Db['oAuthToken']['findUnique']>>>;

function asStatus(value: string): InstallationStatus {
  return (INSTALLATION_STATUSES as readonly string[]).includes(value) ? (value as InstallationStatus) : 'new';
}

export class PrismaInstallationStore implements InstallationStore {
  constructor(
    private readonly db: Db,
    private readonly cipher: TokenCipher,
  ) {}

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

  async save(input: InstallationInput, tokens?: TokenGrant): Promise<Installation> {
    const fields = {
      domain: input.domain,
      clientEndpoint: input.clientEndpoint,
      ...(input.serverEndpoint !== undefined && { serverEndpoint: input.serverEndpoint }),
      ...(input.applicationToken != null && { applicationToken: this.cipher.seal(input.applicationToken) }),
      ...(input.scope !== undefined && { scope: input.scope }),
      ...(input.lang !== undefined && { lang: input.lang }),
      ...(input.status !== undefined && { status: input.status }),
      ...(input.installGrantHash !== undefined && { installGrantHash: input.installGrantHash }),
      ...(input.status === 'active' && { installedAt: new Date(), uninstalledAt: null, lastError: null }),
    };
    return this.db.$transaction(async (tx) => {
      const row = await tx.installation.upsert({
        where: { memberId: input.memberId },
        create: { memberId: input.memberId, ...fields },
        update: fields,
      });
      if (tokens) {
        const sealed = this.sealedTokens(tokens);
        await tx.oAuthToken.upsert({
          where: { installationId: row.id },
          create: { installationId: row.id, ...sealed },
          update: { ...sealed, version: { increment: 1 }, refreshLeaseOwner: null, refreshLeaseUntil: null },
        });
      }
      return this.toInstallation(row);
    });
  }

  async setStatus(id: number, status: InstallationStatus, error?: string | null): Promise<void> {
    await this.db.installation.update({
      where: { id },
      data: {
        status,
        ...(status === 'uninstalled' && { uninstalledAt: new Date() }),
        ...(status === 'active' && { installedAt: new Date(), uninstalledAt: null }),
        ...(error !== undefined && { lastError: error, lastErrorAt: error === null ? null : new Date() }),
      },
    });
  }

  async setApplicationToken(id: number, applicationToken: string): Promise<void> {
    await this.db.installation.update({
      where: { id },
      data: { applicationToken: this.cipher.seal(applicationToken) },
    });
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

  async setBindings(installationId: number, bindings: Omit<BindingRecord, 'boundAt'>[]): Promise<void> {
    await this.db.$transaction([
      this.db.binding.deleteMany({ where: { installationId } }),
      this.db.binding.createMany({ data: bindings.map((b) => ({ installationId, ...b })) }),
    ]);
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
  }
}
