export const INSTALLATION_STATUSES = [
  'new',
  'active',
  'needs_reinstall',
  'payment_required',
  // ONAPPUNINSTALL arrived but could not be proven (no application_token stored): kept, not used.
  'uninstall_reported',
  'uninstalled',
] as const;
export type InstallationStatus = (typeof INSTALLATION_STATUSES)[number];

export interface Installation {
  id: number;
  memberId: string;
  domain: string;
  /** e.g. https://portal.bitrix24.com/rest/ — the only host REST calls for this portal go to. */
  clientEndpoint: string;
  serverEndpoint: string | null;
  applicationToken: string | null;
  status: InstallationStatus;
  scope: string | null;
  lang: string | null;
  installedAt: Date | null;
  uninstalledAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** sha256 (hex) of the refresh token the last install POST proved genuine. */
  installGrantHash: string | null;
  /** Times a portal administrator's visit restored lost tokens (self-healing). */
  healCount: number;
  healedAt: Date | null;
}

/** An OAuth pair as the OAuth server issued it. */
export interface TokenGrant {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  userId?: number | null;
}

/**
 * An install grant the OAuth server confirmed (the posted refresh token is spent) whose
 * administrator check has not finished yet: kept so that a crash or a reload resumes it.
 */
export interface PendingInstall extends TokenGrant {
  /** sha256 (hex) of the spent refresh token: the reloaded install POST names it again. */
  grantHash: string;
  memberId: string;
  clientEndpoint: string;
  serverEndpoint: string | null;
  scope: string | null;
}

/** How `save` completes an install: a pending grant it consumes, a heal it counts. */
export interface SaveOptions {
  /** Deletes this pending install, and any older than a week, in the same transaction (see PendingInstall). */
  completesPending?: string;
  /** The tokens came from an administrator's visit that restored a lost installation. */
  healed?: boolean;
}

/**
 * What `saveInstall` writes with an installation and its tokens, in the same transaction: the
 * pending grant the install consumes, the outcome of the bind that ran before (bindings as a
 * diff against what the caller read) and the installation's final status.
 */
export interface InstallWrite {
  /** As SaveOptions.completesPending: this pending install, and any older than a week, are deleted. */
  completesPending: string;
  /**
   * The installation the caller found for this member_id; null for a first install, created in
   * one statement (should another writer have created it meanwhile, it is updated instead).
   */
  existingId: number | null;
  /** Exactly these bindings are recorded afterwards. */
  bindings: readonly Omit<BindingRecord, 'boundAt'>[];
  /**
   * What `existingId` records, as the caller read it ([] for a first install): the diff is taken
   * against it, as BindingWrite.recorded. Read again when the installation written is another one.
   */
  recorded: readonly Omit<BindingRecord, 'boundAt'>[];
  /** The status after the bind (as `setStatus` writes it); undefined keeps `input.status` as it is. */
  status?: { status: InstallationStatus; error: string | null };
}

/** An OAuth pair as stored: `version` grows by one on every write. */
export interface StoredTokens extends TokenGrant {
  userId: number | null;
  version: number;
  /** When the stored refresh token was received (install or refresh); null for rows older than that rule. */
  refreshedAt: Date | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
}

export interface InstallationInput {
  memberId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint?: string | null;
  applicationToken?: string | null;
  scope?: string | null;
  lang?: string | null;
  status?: InstallationStatus;
  installGrantHash?: string | null;
}

export interface BindingRecord {
  kind: 'placement' | 'event';
  code: string;
  handler: string;
  title: string | null;
  boundAt: Date;
}

/** What operators see about an installation: nothing secret, nothing decrypted. */
export interface InstallationSummary {
  id: number;
  memberId: string;
  domain: string;
  status: InstallationStatus;
  lang: string | null;
  installedAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** Null when no tokens are stored (uninstalled, or install never finished). */
  tokenExpiresAt: Date | null;
  tokenRefreshedAt: Date | null;
  /** Times an administrator's visit restored lost tokens. */
  healCount: number;
}

/** Counts from re-sealing stored secrets under the current encryption key. */
export interface ResealReport {
  /** Values found sealed with an older key or in plaintext, now sealed with the current key. */
  resealed: number;
  /** Values already sealed with the current key (left untouched). */
  current: number;
  /** Values no configured key opens, by installation member_id. */
  unreadable: string[];
  /** Values that changed while being re-sealed (a refresh wrote new ones, sealed by the app). */
  skipped: number;
}

/**
 * Installation rows and the pending installs that complete them (`save` consumes a pending
 * install in the same transaction, so one store owns both).
 */
export interface InstallationRecords {
  find(memberId: string): Promise<Installation | null>;
  findById(id: number): Promise<Installation | null>;
  list(): Promise<Installation[]>;
  /** Every installation with its token times, without opening any secret. */
  summaries(): Promise<InstallationSummary[]>;
  /**
   * Creates or updates the installation and, when given, replaces its tokens (version + 1).
   * `applicationToken`: a string replaces it, null clears it, undefined keeps it.
   */
  save(input: InstallationInput, tokens?: TokenGrant, options?: SaveOptions): Promise<Installation>;
  /**
   * An install, written once: the installation (with `write.status` over `input.status`), its
   * tokens (as `save` writes them), the pending-install cleanup and the bindings' diff, all in
   * one transaction. Answers the installation as stored.
   */
  saveInstall(input: InstallationInput, tokens: TokenGrant, write: InstallWrite): Promise<Installation>;
  setStatus(id: number, status: InstallationStatus, error?: string | null): Promise<void>;
  setApplicationToken(id: number, applicationToken: string): Promise<void>;
  /**
   * Forgets the portal entirely, with its tokens, bindings and options (uninstall with CLEAN=1,
   * or an operator's purge). Its pending installs are not its: they stay.
   */
  delete(id: number): Promise<void>;

  /** Records (or replaces) a pending install (one statement); completed installs drop week-old ones. */
  savePendingInstall(pending: PendingInstall): Promise<void>;
  findPendingInstall(grantHash: string): Promise<PendingInstall | null>;
  deletePendingInstall(grantHash: string): Promise<void>;
}

/**
 * An installation's OAuth pair. Writes are compare-and-set on `version`; refresh is guarded
 * by a lease so that across processes only one spends a refresh token.
 */
export interface TokenStore {
  getTokens(installationId: number): Promise<StoredTokens | null>;
  /** Writes only if the stored version is still `expectedVersion`; returns the new row or null. */
  replaceTokens(
    installationId: number,
    expectedVersion: number,
    tokens: TokenGrant,
  ): Promise<StoredTokens | null>;
  /** Claims the right to refresh until `until`, if the version is unchanged and no live lease exists. */
  acquireRefreshLease(
    installationId: number,
    expectedVersion: number,
    owner: string,
    until: Date,
  ): Promise<boolean>;
  releaseRefreshLease(installationId: number, owner: string): Promise<void>;
  deleteTokens(installationId: number): Promise<void>;
}

/** How `setBindings` may spare reads and statements: what the caller knows, and what goes with it. */
export interface BindingWrite {
  /**
   * What is recorded now, as the caller read it ([] for an installation it has just created):
   * the diff is taken against this instead of reading it again. Should another writer have
   * recorded one of the additions meanwhile (the unique index refuses it), the diff is taken
   * again against what is stored.
   */
  recorded?: readonly Omit<BindingRecord, 'boundAt'>[];
  /** The installation's status (as `setStatus` writes it), written in the same transaction. */
  status?: { status: InstallationStatus; error: string | null };
}

/** The placements and events recorded as bound on the portal. */
export interface BindingStore {
  listBindings(installationId: number): Promise<BindingRecord[]>;
  /** Replaces the recorded bindings with exactly these. */
  setBindings(
    installationId: number,
    bindings: Omit<BindingRecord, 'boundAt'>[],
    options?: BindingWrite,
  ): Promise<void>;
}

/** The app's settings for one portal. */
export interface OptionStore {
  getOptions(installationId: number): Promise<Record<string, string>>;
  /** Sets these keys; keys not named keep their values. */
  setOptions(installationId: number, options: Record<string, string>): Promise<void>;
}

export interface SecretResealer {
  /**
   * Seals every stored token and application_token with the current key (key rotation).
   * Idempotent; a value changed meanwhile by someone else is left to them.
   */
  resealSecrets(): Promise<{ tokens: ResealReport; applicationTokens: ResealReport }>;
}

/**
 * Everything stored about installations (after @slack/oauth's InstallationStore), as the app
 * wires it. Code that needs less takes the narrower interfaces above.
 */
export interface InstallationStore
  extends InstallationRecords,
    TokenStore,
    BindingStore,
    OptionStore,
    SecretResealer {}
