// The file, search and settings answers are exactly the domain's shapes (src/fs/shapes.ts,
// src/config/settings.ts), which the OpenAPI document names and the client imports type-only.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { PublicSettingsSchema } from '../../src/config/settings.js';
import { FileContentSchema, FileListingSchema, FindFileResultSchema, FindTextResultSchema } from '../../src/fs/shapes.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let token: string;
beforeAll(async () => {
  s = await startTestServer();
  token = (await s.token()).token;
  fs.writeFileSync(path.join(s.project, 'a.txt'), 'needle here\n');
});
afterAll(() => s.close());

/** Parses strictly: an extra or missing field in the answer fails. */
function exactly(schema: z.ZodObject, value: unknown) {
  return schema.strict().parse(value);
}

describe('answers are the domain shapes', () => {
  const cases: [string, z.ZodObject][] = [
    ['/file?path=.', FileListingSchema],
    ['/file/content?path=a.txt', FileContentSchema],
    ['/find/file?query=a.txt', FindFileResultSchema],
    ['/find?pattern=needle', FindTextResultSchema],
    ['/config', PublicSettingsSchema],
  ];
  for (const [url, schema] of cases) {
    it(url, async () => {
      const r = await s.fetch(url, { token });
      expect(r.status).toBe(200);
      const body = (await r.json()) as Record<string, unknown>;
      expect(exactly(schema, body)).toEqual(body);
      // The check can fail: a field more is refused.
      expect(() => exactly(schema, { ...body, extra: 1 })).toThrow();
    });
  }

  it('the OpenAPI document names each of them', async () => {
    const docJson = (await (await s.fetch('/doc', { token })).json()) as { components: { schemas: Record<string, unknown> } };
    for (const name of ['FileListing', 'FileContent', 'FindFileResult', 'FindTextResult', 'Config', 'ConfigPatch']) {
      expect(Object.keys(docJson.components.schemas)).toContain(name);
    }
  });
});
