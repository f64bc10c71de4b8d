// The official SDK's own OAuth client (its `authProvider`, as MCP clients use it) against tether
// with nothing but the URL: it discovers the protected resource and tether's authorization server
// from the 401, registers itself, sends the user to authorize with PKCE, redeems the code, and
// later refreshes on its own when its access token is gone (here: a restart forgets them). The
// user's part (the consent page) is played through the API with the approver's token; the browser
// version is test/e2e/oauth.test.ts.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTokens } from '../../src/auth/token-admin.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { REDIRECT, approvedCode } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** What an MCP client keeps: its registration, tokens and PKCE verifier; the browser is a URL. */
class MemoryProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  sentTo: URL | undefined;
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'SDK Client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.sentTo = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

let s: TestServer;
let admin: string;
beforeAll(async () => {
  s = await startTestServer({ registrars: await productionRegistrars() });
  admin = (await s.token(['read', 'write', 'execute'], { name: 'approver' })).token;
  fs.writeFileSync(path.join(s.project, 'note.txt'), 'over the SDK\n');
});
afterAll(() => s.close());

const connect = async (provider: MemoryProvider) => {
  const transport = new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { authProvider: provider });
  const client = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
};

describe("the SDK's OAuth client, given only the URL", () => {
  it('discovers, registers, authorizes with PKCE, redeems, uses the tools, and refreshes by itself after a restart', async () => {
    const provider = new MemoryProvider();
    // First contact: 401 -> discovery -> registration -> the user is sent to authorize.
    const first = new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { authProvider: provider });
    await expect(new Client({ name: 'sdk-oauth-test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.info?.client_id).toMatch(/^client_/);
    const sentTo = provider.sentTo!;
    expect(sentTo.origin + sentTo.pathname).toBe(`${s.url}/oauth/authorize`);
    expect(sentTo.searchParams.get('code_challenge_method')).toBe('S256');
    expect(sentTo.searchParams.get('resource')).toBe(`${s.url}/mcp`);

    // The user: the authorization URL leads to the consent page, where the approver approves.
    const r = await fetch(sentTo, { redirect: 'manual' });
    const requestId = /^\/#\/consent\/([A-Za-z0-9_-]+)$/.exec(r.headers.get('location') ?? '')?.[1];
    expect(r.status, await r.text()).toBe(302);
    const code = await approvedCode(s.url, admin, requestId!);
    await first.finishAuth(code);
    expect(provider.saved).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });

    const { client } = await connect(provider);
    const read = await client.callTool({ name: 'read_file', arguments: { path: 'note.txt' } });
    expect(JSON.stringify(read.content)).toContain('over the SDK');
    await client.close();
    const grant = (await listTokens(s.env.tokenFile)).find((t) => t.kind === 'oauth' && t.client?.id === provider.info?.client_id);
    expect(grant).toMatchObject({ name: 'oauth-SDK-Client', audience: `${s.url}/mcp` });

    // A restart forgets access tokens: the SDK refreshes on the 401 by itself (a rotated pair) and goes on.
    const before = provider.saved!;
    await s.restart({ samePort: true });
    const again = await connect(provider);
    expect((await again.client.listTools()).tools.map((t) => t.name)).toContain('read_file');
    expect(provider.saved!.access_token).not.toBe(before.access_token);
    expect(provider.saved!.refresh_token).not.toBe(before.refresh_token);
    await again.client.close();
    // The same client, not a new registration.
    expect(s.logs.filter((l) => l.event === 'oauth.client_registered')).toHaveLength(1);
  });
});
