// Registered OAuth clients, persisted in $XDG_DATA_HOME/tether/oauth-clients.json (0600, atomic
// locked writes) so a client keeps its registration across restarts. Bounded: at most MAX_CLIENTS;
// a new registration evicts the oldest client that holds no grant, and is refused when every one
// holds one. A file that is not valid is never overwritten: registration is refused until it is
// fixed (and its clients are unknown), never treated as empty.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TetherError, errorMessage } from '../../errors.js';
import { withFileLock, writePrivateFileAtomic } from '../../fs/atomic-json.js';
import { CLIENT_ID_PATTERN, isDisplayText, CLIENT_NAME_MAX, isIsoDate } from '../token-record.js';
import { redirectUriProblem, MAX_REDIRECT_URIS, type Registration } from './registration.js';

export const MAX_CLIENTS = 100;
export const CLIENTS_FILE_NAME = 'oauth-clients.json';

export interface OAuthClient {
  id: string;
  name: string;
  redirectUris: string[];
  createdAt: string;
}

interface ClientsFile {
  version: 1;
  clients: OAuthClient[];
}

function isClient(v: unknown): v is OAuthClient {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const c = v as Record<string, unknown>;
  return (
    Object.keys(c).length === 4 &&
    typeof c.id === 'string' &&
    CLIENT_ID_PATTERN.test(c.id) &&
    isDisplayText(c.name, CLIENT_NAME_MAX) &&
    Array.isArray(c.redirectUris) &&
    c.redirectUris.length >= 1 &&
    c.redirectUris.length <= MAX_REDIRECT_URIS &&
    c.redirectUris.every((u) => redirectUriProblem(u) === null) &&
    isIsoDate(c.createdAt)
  );
}

/** Null if `data` is a valid clients file, else the problem. */
export function clientsFileProblem(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'the top level is not a JSON object';
  const d = data as Record<string, unknown>;
  if (d.version !== 1) return `it has version ${JSON.stringify(d.version)}; this tether understands version 1`;
  if (!Array.isArray(d.clients) || d.clients.length > MAX_CLIENTS) return `"clients" is not an array of at most ${MAX_CLIENTS}`;
  const bad = d.clients.findIndex((c) => !isClient(c));
  if (bad !== -1) return `client #${bad + 1} is invalid`;
  return null;
}

export function newClientId(): string {
  return `client_${randomBytes(16).toString('base64url')}`;
}

export class OAuthClients {
  private clients = new Map<string, OAuthClient>();
  private broken: string | null = null;

  constructor(
    readonly file: string,
    /** Whether a client holds a grant (it is then never evicted). */
    private readonly hasGrant: (clientId: string) => boolean,
  ) {
    this.load();
  }

  get size(): number {
    return this.clients.size;
  }

  get(id: string): OAuthClient | undefined {
    return this.broken === null ? this.clients.get(id) : undefined;
  }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.broken = `cannot read ${this.file}: ${errorMessage(err)}`;
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      this.broken = `${this.file} is not valid JSON (${errorMessage(err)})`;
      return;
    }
    const problem = clientsFileProblem(data);
    if (problem) {
      this.broken = `${this.file} is invalid: ${problem}`;
      return;
    }
    this.clients = new Map((data as ClientsFile).clients.map((c) => [c.id, c]));
  }

  /** Registers a client; throws a TetherError (503) when none can be evicted or the file is broken. */
  async register(reg: Registration, now = Date.now()): Promise<OAuthClient> {
    return withFileLock(
      this.file,
      async () => {
        if (this.broken)
          throw new TetherError('temporarily_unavailable', `client registration is unavailable: ${this.broken}; fix or move the file aside`, 503);
        const client: OAuthClient = { id: newClientId(), name: reg.name, redirectUris: [...reg.redirectUris], createdAt: new Date(now).toISOString() };
        const next = new Map(this.clients);
        if (next.size >= MAX_CLIENTS) {
          // Map order is registration order: the oldest first.
          const victim = [...next.keys()].find((id) => !this.hasGrant(id));
          if (victim === undefined) {
            throw new TetherError(
              'temporarily_unavailable',
              `this server holds ${MAX_CLIENTS} OAuth clients, each with a grant; delete a grant (tether auth token delete) first`,
              503,
            );
          }
          next.delete(victim);
        }
        next.set(client.id, client);
        const data: ClientsFile = { version: 1, clients: [...next.values()] };
        await writePrivateFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n', 'OAuth clients file');
        this.clients = next;
        return client;
      },
      { what: 'OAuth clients file' },
    );
  }
}

export const clientsFilePath = (dataDir: string) => path.join(dataDir, CLIENTS_FILE_NAME);
