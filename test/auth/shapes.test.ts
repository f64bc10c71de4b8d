// The auth shapes are defined once (src/auth/shapes.ts). The token file's plain-code validator
// (token-record.ts, which keeps zod off the CLI's start-up path) must accept exactly the records
// the schema accepts; the API shapes reuse the record's field definitions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../src/auth/permissions.js';
import { PermissionSchema, TokenRecordSchema, WebLoginResultSchema, WhoamiSchema } from '../../src/auth/shapes.js';
import { validateTokenFile } from '../../src/auth/token-record.js';

const valid = {
  id: 'tok_0123456789',
  name: 'laptop',
  hash: 'a'.repeat(64),
  permissions: ['read', 'write'],
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: null,
  lastUsedAt: '2026-01-02T00:00:00.000Z',
};

const plainAccepts = (record: unknown) => validateTokenFile({ version: 2, tokens: [record] }) === null;
const schemaAccepts = (record: unknown) => TokenRecordSchema.safeParse(record).success;

/** Values a field may be replaced with: valid ones, near misses and wrong types. */
const fieldValue = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    '',
    0,
    true,
    [],
    {},
    'tok_0123456789',
    'tok_ABCDEFGHIJ',
    'tok_012345678',
    'tok_abc',
    'laptop',
    '-laptop',
    'x'.repeat(64),
    'x'.repeat(65),
    'a'.repeat(64),
    'A'.repeat(64),
    '2026-01-01T00:00:00Z',
    '2026-01-01',
    '2026-13-45T00:00:00Z',
    `2026-01-01T00:00:00.000${'0'.repeat(30)}Z`,
    ['read'],
    ['execute', 'read'],
    ['read', 'read'],
    ['admin'],
    ['read', 'Write'],
    ['/home/a'],
    ['/home/a', '/home/a'],
    ['relative'],
    'share',
    'device',
    'oauth',
    { type: 'pty', id: 'p1' },
    { type: 'session', id: 'ses_1' },
    { type: 'pty', id: 'p1', extra: 1 },
    { type: 'file', id: 'p1' },
    '127.0.0.1',
    { id: 'client_0123456789abcdefghijKL', name: 'Claude', redirectHost: '127.0.0.1:3000' },
    { id: 'client_0123456789abcdefghijKL', name: 'bad\u202ename', redirectHost: 'x' },
    { id: 'client_short', name: 'Claude', redirectHost: 'x' },
    { id: 'client_0123456789abcdefghijKL', name: 'Claude', redirectHost: 'x', extra: 1 },
    'http://127.0.0.1:4000/mcp',
    'https://example.test/mcp',
    'ftp://x/mcp',
  ),
  fc.string({ maxLength: 80 }),
  fc.array(fc.constantFrom('read', 'write', 'execute', 'admin', ''), { maxLength: 4 }),
);

const FIELDS = [...Object.keys(valid), 'scopes', 'kind', 'target', 'lastUsedFrom', 'client', 'audience', 'extra', 'constructor'];

describe('TokenRecordSchema and the token file validator', () => {
  it('accept the same records (random field replacements, additions and removals)', () => {
    expect(plainAccepts(valid)).toBe(true);
    expect(schemaAccepts(valid)).toBe(true);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...FIELDS), fieldValue, fc.boolean()), { maxLength: 3 }), (edits) => {
        const record: Record<string, unknown> = { ...valid };
        for (const [field, value, remove] of edits) {
          if (remove) delete record[field];
          else record[field] = value;
        }
        expect(plainAccepts(record)).toBe(schemaAccepts(record));
      }),
      { numRuns: 3000 },
    );
  });

  it('agree on every single-field near miss', () => {
    const misses: Record<string, unknown[]> = {
      id: ['tok_012345678', 'tok_01234567890', 'TOK_0123456789', 42],
      name: ['', 'tok_x', '.x', 'a'.repeat(65), 'a b'],
      hash: ['a'.repeat(63), 'g'.repeat(64), 'A'.repeat(64)],
      permissions: [[], ['read', 'read'], ['root'], 'read'],
      createdAt: [null, 'yesterday', '2026-01-01'],
      expiresAt: ['never', 0, '2026-02-30Txx'],
      lastUsedAt: [undefined, 'now'],
    };
    for (const [field, values] of Object.entries(misses)) {
      for (const value of values) {
        const record = { ...valid, [field]: value };
        expect(plainAccepts(record), `${field}=${JSON.stringify(value)}`).toBe(false);
        expect(schemaAccepts(record), `${field}=${JSON.stringify(value)}`).toBe(false);
      }
    }
  });
});

describe('oauth grant records', () => {
  const grant = {
    ...valid,
    kind: 'oauth',
    client: { id: 'client_0123456789abcdefghijKL', name: 'Claude Code', redirectHost: '127.0.0.1:33418' },
    audience: 'http://127.0.0.1:4000/mcp',
  };
  it('both accept a grant with its client and audience, and refuse each part missing or misplaced', () => {
    expect(plainAccepts(grant)).toBe(true);
    expect(schemaAccepts(grant)).toBe(true);
    const { client: _c, ...noClient } = grant;
    const { audience: _a, ...noAudience } = grant;
    const { kind: _k, ...notOauth } = grant;
    const cases: unknown[] = [
      noClient,
      noAudience,
      notOauth,
      { ...grant, kind: 'device' },
      { ...grant, client: { ...grant.client, name: 'evil\u202eemaN' } },
      { ...grant, client: { ...grant.client, name: 'line\nbreak' } },
      { ...grant, client: { ...grant.client, name: 'x'.repeat(101) } },
      { ...grant, client: { ...grant.client, id: 'client_../../etc' } },
      { ...grant, audience: 'javascript:alert(1)' },
      { ...grant, audience: 'http://a b/mcp' },
      { ...valid, audience: grant.audience },
      { ...valid, client: grant.client },
    ];
    for (const r of cases) {
      expect(plainAccepts(r), JSON.stringify(r)).toBe(false);
      expect(schemaAccepts(r), JSON.stringify(r)).toBe(false);
    }
  });
});

describe('API shapes reuse the domain definitions', () => {
  it('the permission enum is the vocabulary itself', () => {
    expect(PermissionSchema.options).toEqual([...PERMISSIONS]);
  });

  it('whoami and the web login result take their fields from the token record', () => {
    const r = TokenRecordSchema.shape;
    for (const shape of [WhoamiSchema.shape, WebLoginResultSchema.shape]) {
      expect(shape.name).toBe(r.name);
      expect(shape.permissions).toBe(r.permissions);
      expect(shape.expiresAt).toBe(r.expiresAt);
    }
    expect(WebLoginResultSchema.shape.id).toBe(r.id);
    // whoami's id is the record's, or null with --no-auth.
    expect(WhoamiSchema.safeParse({ id: null, name: 'no-auth', permissions: ['read'], expiresAt: null, authenticatedBy: 'none' }).success).toBe(true);
    expect(WhoamiSchema.safeParse({ id: 'bogus', name: 'x', permissions: ['read'], expiresAt: null, authenticatedBy: 'bearer' }).success).toBe(false);
  });
});
