/**
 * Signing keys, kept in the system table `_signing_keys` so that every node of an app shares them.
 * One row names the current key and when it is due for rotation; each key is a row of its own,
 * listed through an index by creation time. Rotation is a conditional transaction on the state row,
 * so when several nodes rotate at once exactly one new key wins and the others adopt it. A retired
 * key stays published (and verifies) until every token it may have signed has expired, then its
 * row's TTL removes it.
 */
import { randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import type { HostLogger } from "../log/logger.js";
import { isCairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import type { Tables } from "../tables/tables.js";
import type { Stored, TableDefinition, TransactionOp } from "../tables/types.js";
import type { SessionSettings } from "./config.js";
import { seal, unseal, type Sealed } from "./seal.js";
import type { PublicKeyEntry, SigningAlgorithm } from "./verify-token.js";

export const keysTable = "_signing_keys";
export const keysTableDefinition: TableDefinition = {
  partitionKey: "kid",
  indexes: { byCreated: { partitionKey: "ring", sortKey: "createdAt" } },
  ttl: "expiresAt",
};

interface KeyItem {
  kid: string;
  ring: "keys";
  alg: SigningAlgorithm;
  publicJwk: JWK;
  privateKey: Sealed;
  createdAt: number;
  /** Set when the key retires: epoch seconds after which no token it signed can be valid. */
  expiresAt?: number;
  [attribute: string]: unknown;
}

interface RingState {
  kid: "current";
  currentKid: string;
  /** When the current key is due for rotation (ms since the epoch). */
  rotateAt: number;
  generation: number;
  [attribute: string]: unknown;
}

export interface Signer {
  kid: string;
  alg: SigningAlgorithm;
  key: CryptoKey;
  rotateAt: number;
}

/** Kept after a key retires beyond the longest token lifetime: covers nodes whose view is stale. */
const retireMarginMs = 60 * 60 * 1000;

export class KeyRing {
  private published: PublicKeyEntry[] = [];
  private signer: Signer | undefined;
  private unusable = false;
  private ensuring: Promise<Signer> | undefined;
  private lastRefresh = -Infinity;

  constructor(
    private readonly tables: Tables,
    private readonly settings: SessionSettings,
    private readonly clock: Clock,
    private readonly secret: string | undefined,
    private readonly logger: HostLogger,
    /** Called with the public keys whenever they change. */
    private readonly onChange: (keys: PublicKeyEntry[]) => void,
  ) {}

  publicKeys(): PublicKeyEntry[] {
    return this.published;
  }

  /** The JWKS document: every key that may still have valid tokens. */
  jwks(): { keys: JWK[] } {
    return { keys: this.published.map(({ kid, alg, jwk }) => ({ ...jwk, kid, alg, use: "sig" })) };
  }

  /** Read the keys and the current key from the store. */
  async load(): Promise<void> {
    const state = await this.state();
    const page = await this.tables.query(keysTable, "keys", {
      index: "byCreated",
      order: "desc",
      limit: 1000,
    });
    const items = page.items as unknown as Array<Stored<KeyItem>>;
    const published = items.map((item) => ({ kid: item.kid, alg: item.alg, jwk: item.publicJwk }));
    if (!samePublished(this.published, published)) {
      this.published = published;
      this.onChange(published);
    }
    const current = state === undefined ? undefined : items.find((item) => item.kid === state.currentKid);
    if (current === undefined || state === undefined) {
      this.signer = undefined;
      return;
    }
    if (this.signer?.kid === current.kid) {
      this.signer.rotateAt = state.rotateAt;
      return;
    }
    try {
      const jwk = JSON.parse(unseal(current.privateKey, this.secret)) as JWK;
      const key = (await importJWK(jwk, current.alg)) as CryptoKey;
      this.signer = { kid: current.kid, alg: current.alg, key, rotateAt: state.rotateAt };
      this.unusable = false;
    } catch (error) {
      if (!isCairnError(error) || error.code !== "secret_mismatch") throw error;
      this.logger.warn(
        `sessions: ${error.message}; making a new signing key (tokens signed before stay valid)`,
      );
      this.signer = undefined;
      this.unusable = true;
    }
  }

  /** The key to sign with now: rotated first when it is due (or when there is none yet). */
  signingKey(): Promise<Signer> {
    const signer = this.signer;
    if (signer !== undefined && signer.rotateAt > this.clock.now()) return Promise.resolve(signer);
    this.ensuring ??= this.ensure().finally(() => (this.ensuring = undefined));
    return this.ensuring;
  }

  /** Periodic check: pick up other nodes' rotations, and rotate when due (only once keys exist). */
  async tick(): Promise<void> {
    await this.load();
    if (
      this.published.length > 0 &&
      (this.signer === undefined || this.signer.rotateAt <= this.clock.now())
    ) {
      await this.signingKey();
    }
  }

  /** Reload for an instance that met an unknown kid, at most once a second. */
  async refresh(): Promise<PublicKeyEntry[]> {
    const now = performance.now();
    if (now - this.lastRefresh >= 1000) {
      this.lastRefresh = now;
      await this.load();
    }
    return this.published;
  }

  /** Make a new key current now, whatever the schedule says. */
  async rotateNow(): Promise<void> {
    await this.rotate(await this.state());
    await this.load();
  }

  private async ensure(): Promise<Signer> {
    await this.load();
    const due = (s: Signer | undefined) => s === undefined || s.rotateAt <= this.clock.now();
    if (due(this.signer) || this.unusable) {
      // Read the ring's state again: another node may have rotated since our load, and a second
      // rotation on top of its fresh key would give two nodes two different new keys.
      const state = await this.state();
      if (state === undefined || state.rotateAt <= this.clock.now() || this.unusable)
        await this.rotate(state);
      await this.load();
    }
    if (this.signer === undefined) throw new Error("sessions: no usable signing key after rotation");
    return this.signer;
  }

  /** One conditional transaction: the new key, the state row (at the version read), the old key's retirement. */
  private async rotate(state: Stored<RingState> | undefined): Promise<void> {
    const now = this.clock.now();
    const alg = this.settings.algorithm;
    const pair = await generateKeyPair(alg, { extractable: true });
    const kid = randomBytes(12).toString("base64url");
    const item: KeyItem = {
      kid,
      ring: "keys",
      alg,
      publicJwk: await exportJWK(pair.publicKey),
      privateKey: seal(JSON.stringify(await exportJWK(pair.privateKey)), this.secret),
      createdAt: now,
    };
    const next: RingState = {
      kid: "current",
      currentKid: kid,
      rotateAt: now + this.settings.rotateEveryMs,
      generation: (state?.generation ?? 0) + 1,
    };
    const ops: TransactionOp[] = [
      { put: { table: keysTable, item, ifNotExists: true } },
      state === undefined
        ? { put: { table: keysTable, item: next, ifNotExists: true } }
        : { put: { table: keysTable, item: next, ifVersion: state._version } },
    ];
    if (state !== undefined && state.currentKid !== kid) {
      const retireAt = Math.ceil(
        (now + this.settings.ttlMs + this.settings.clockSkewMs + retireMarginMs) / 1000,
      );
      ops.push({
        update: {
          table: keysTable,
          key: { kid: state.currentKid },
          changes: { set: { expiresAt: retireAt } },
        },
      });
    }
    try {
      await this.tables.transact(ops);
      this.logger.info({ kid, generation: next.generation }, "sessions: new signing key");
    } catch (error) {
      // Another node rotated first: its key is the current one now.
      if (!isCairnError(error) || error.code !== "condition_failed") throw error;
    }
  }

  private async state(): Promise<Stored<RingState> | undefined> {
    return (await this.tables.get(keysTable, { kid: "current" })) as Stored<RingState> | undefined;
  }
}

function samePublished(a: PublicKeyEntry[], b: PublicKeyEntry[]): boolean {
  return a.length === b.length && a.every((key, i) => key.kid === b[i]!.kid);
}

/** The app's secret for signed client-side state: made once, shared by every node. */
export async function stateSecret(
  tables: Tables,
  secret: string | undefined,
  logger: HostLogger,
): Promise<Buffer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = (await tables.get(keysTable, { kid: "state-secret" })) as
      Stored<{ secret: Sealed }> | undefined;
    if (row !== undefined) {
      try {
        return Buffer.from(unseal(row.secret, secret), "base64url");
      } catch (error) {
        if (!isCairnError(error) || error.code !== "secret_mismatch") throw error;
        logger.warn(`sessions: ${error.message}; signed client-side state made before is no longer accepted`);
      }
    }
    const fresh = randomBytes(32).toString("base64url");
    const item = { kid: "state-secret", secret: seal(fresh, secret) };
    try {
      await tables.put(
        keysTable,
        item,
        row === undefined ? { ifNotExists: true } : { ifVersion: row._version },
      );
      return Buffer.from(fresh, "base64url");
    } catch (error) {
      if (!isCairnError(error) || error.code !== "condition_failed") throw error;
    }
  }
  throw new Error("sessions: could not settle the state secret");
}
