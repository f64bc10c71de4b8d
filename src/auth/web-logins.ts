// Web UI logins: `POST /auth/session` exchanges a token for an HttpOnly, SameSite=Strict cookie
// bound to that token's id, so deleting or expiring the token ends the login at once (the guard
// re-checks the token behind the cookie on every request, and the server drops the token's logins
// when it sees the token gone). A paired device (POST /auth/pair) gets the same kind of login.
//
// Cookies are not scoped by port: any other web server on this host name that the user visits
// receives the cookie too. So the cookie alone authenticates nothing: every request must also carry
// the login key returned by the login (see credential-list.ts), kept by the page in per-origin
// storage (port included).
//
// Logins survive a server restart: with a `file`, every change is written to the web logins file
// (web-login-file.ts), which holds only SHA-256 hashes of the login id and key. In memory too,
// logins are keyed by the hash of their id. Loading skips expired logins and those whose token is
// no longer active; a file that is invalid restores none (fail closed; the caller logs it).
//
// Bounded without letting one token push others out: a token's new login evicts only that token's
// own oldest login beyond MAX_PER_TOKEN, and at the global cap new logins are refused (429) rather
// than evicting anyone else's.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TetherError, errorMessage } from '../errors.js';
import { applyWebLoginChanges, loadWebLoginsSync, removeWebLoginsFile, type StoredLogin } from './web-login-file.js';

export const MAX_WEB_LOGINS = 1000;
export const MAX_WEB_LOGINS_PER_TOKEN = 16;
/** A login made by pasting a token lasts at most this long (the token can log in again). */
const MAX_AGE_MS = 12 * 3600_000;
/** A paired device's login lasts as long as its token, up to the 400 days browsers keep a cookie:
 * nobody knows the device token's secret, so this login is the only way it is ever used. */
export const DEVICE_MAX_AGE_MS = 400 * 86_400_000;

interface WebLogin {
  tokenId: string;
  expiresAt: number;
  /** SHA-256 of the key the page must send with the cookie. */
  keyHash: Buffer;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export interface WebLoginsOptions {
  now?: () => number;
  max?: number;
  maxPerToken?: number;
  /** Persist logins here (restored at construction); absent: memory only. */
  file?: string;
  /** At load: whether a stored login's token still exists and is unexpired. */
  isTokenActive?: (tokenId: string) => boolean;
  /** Loud reports: an invalid file at load, a failed write. */
  report?: (level: 'warn' | 'error', event: string, fields: Record<string, unknown>) => void;
}

export class WebLogins {
  /** By the hex SHA-256 of the login id. */
  private readonly logins = new Map<string, WebLogin>();
  private readonly now: () => number;
  private readonly max: number;
  private readonly maxPerToken: number;
  private readonly file: string | undefined;
  private readonly report: NonNullable<WebLoginsOptions['report']>;
  private pending = { add: new Map<string, StoredLogin>(), remove: new Set<string>(), removeTokens: new Set<string>() };
  private writing: Promise<void> = Promise.resolve();
  private next: Promise<void> | null = null;

  constructor(opts: WebLoginsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.max = opts.max ?? MAX_WEB_LOGINS;
    this.maxPerToken = opts.maxPerToken ?? MAX_WEB_LOGINS_PER_TOKEN;
    this.file = opts.file;
    this.report = opts.report ?? (() => {});
    if (this.file) this.restore(this.file, opts.isTokenActive ?? (() => true));
  }

  /** Throws a 429 TetherError when the server holds its maximum of other tokens' logins. */
  create(tokenId: string, tokenExpiresAt: string | null, opts: { device?: boolean } = {}): { id: string; key: string; maxAgeS: number } {
    const now = this.now();
    this.sweep(now);
    const own = [...this.logins].filter(([, l]) => l.tokenId === tokenId);
    // Map order is creation order: the token's oldest logins come first.
    for (const [idHash] of own.slice(0, Math.max(0, own.length - this.maxPerToken + 1))) this.remove(idHash);
    if (this.logins.size >= this.max) {
      throw new TetherError('too_many_logins', `the server holds its maximum of ${this.max} web logins; try again when some have ended`, 429);
    }
    const id = randomBytes(32).toString('base64url');
    const key = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(now + (opts.device ? DEVICE_MAX_AGE_MS : MAX_AGE_MS), tokenExpiresAt ? Date.parse(tokenExpiresAt) : Infinity);
    const login: WebLogin = { tokenId, expiresAt, keyHash: sha256(key) };
    const idHash = sha256(id).toString('hex');
    this.logins.set(idHash, login);
    if (this.file) {
      this.pending.remove.delete(idHash);
      this.pending.add.set(idHash, { idHash, keyHash: login.keyHash.toString('hex'), tokenId, expiresAt: new Date(expiresAt).toISOString() });
      this.schedule();
    }
    return { id, key, maxAgeS: Math.max(1, Math.floor((expiresAt - now) / 1000)) };
  }

  /** The token id behind a live login whose key matches, else null. */
  lookup(id: string, key: string): string | null {
    const idHash = sha256(id).toString('hex');
    const l = this.logins.get(idHash);
    if (!l) return null;
    if (l.expiresAt <= this.now()) {
      this.remove(idHash);
      return null;
    }
    return timingSafeEqual(l.keyHash, sha256(key)) ? l.tokenId : null;
  }

  delete(id: string): void {
    this.remove(sha256(id).toString('hex'));
  }

  dropToken(tokenId: string): void {
    for (const [idHash, l] of this.logins) if (l.tokenId === tokenId) this.logins.delete(idHash);
    if (!this.file) return;
    // Written even when this server held none of them: another server sharing the file may have.
    for (const [idHash, p] of this.pending.add) if (p.tokenId === tokenId) this.pending.add.delete(idHash);
    this.pending.removeTokens.add(tokenId);
    this.schedule();
  }

  /** Live logins of one token. */
  countFor(tokenId: string): number {
    const now = this.now();
    let n = 0;
    for (const l of this.logins.values()) if (l.tokenId === tokenId && l.expiresAt > now) n++;
    return n;
  }

  get size(): number {
    return this.logins.size;
  }

  /** Resolves when every change made so far is on disk (or its write failed and was reported). */
  persisted(): Promise<void> {
    return this.next ?? this.writing;
  }

  private remove(idHash: string): void {
    if (!this.logins.delete(idHash) || !this.file) return;
    this.pending.add.delete(idHash);
    this.pending.remove.add(idHash);
    this.schedule();
  }

  private sweep(now: number): void {
    for (const [idHash, l] of this.logins) if (l.expiresAt <= now) this.remove(idHash);
  }

  /** One write at a time; changes made meanwhile go into the next one. */
  private schedule(): void {
    if (this.next) return;
    const next = this.writing.then(async () => {
      this.next = null;
      await this.write();
    });
    this.next = next;
    this.writing = next;
  }

  private async write(): Promise<void> {
    const file = this.file!;
    const changes = { add: [...this.pending.add.values()], remove: this.pending.remove, removeTokens: this.pending.removeTokens };
    this.pending = { add: new Map(), remove: new Set(), removeTokens: new Set() };
    if (changes.add.length === 0 && changes.remove.size === 0 && changes.removeTokens.size === 0) return;
    try {
      const problem = await applyWebLoginChanges(file, changes, this.now());
      if (problem) this.report('error', 'web_logins.file_invalid', { file, problem, note: 'the logins it held were dropped (fail closed)' });
    } catch (err) {
      if (changes.remove.size === 0 && changes.removeTokens.size === 0) {
        this.report('error', 'web_logins.write_failed', { file, error: errorMessage(err), note: 'new web logins will not survive a restart' });
        return;
      }
      // An ended login must never come back after a restart: without the file, none does.
      const removed = await removeWebLoginsFile(file).then(
        () => true,
        () => false,
      );
      this.report('error', 'web_logins.write_failed', {
        file,
        error: errorMessage(err),
        note: removed
          ? 'the file was removed so that no ended login comes back; every web login ends at the next restart'
          : 'the file could not be removed either: ended web logins may come back after a restart; fix the data directory',
      });
    }
  }

  private restore(file: string, isTokenActive: (tokenId: string) => boolean): void {
    const loaded = loadWebLoginsSync(file, this.now());
    if (!loaded.ok) {
      this.report('error', 'web_logins.file_invalid', {
        file,
        problem: loaded.problem,
        movedTo: loaded.movedTo,
        note: 'no web login was restored (fail closed); users log in again',
      });
      return;
    }
    if (loaded.looseMode) this.report('warn', 'web_logins.file_mode', { file, mode: loaded.looseMode, note: 'it will be set to 0600 on the next change' });
    const now = this.now();
    for (const s of loaded.logins) {
      const expiresAt = Date.parse(s.expiresAt);
      if (expiresAt <= now) continue;
      if (!isTokenActive(s.tokenId)) {
        this.pending.removeTokens.add(s.tokenId);
        continue;
      }
      if (this.logins.size >= this.max) break;
      this.logins.set(s.idHash, { tokenId: s.tokenId, expiresAt, keyHash: Buffer.from(s.keyHash, 'hex') });
    }
    // Logins of tokens deleted while the server was down leave the file with the first write.
    if (this.pending.removeTokens.size > 0) this.schedule();
  }
}
