// One definition per API shape: what the routes answer is exactly the domain's schemas (no field
// more or less), the OpenAPI document names them, and the typed client's types are the domain's,
// inferred from the same schemas. The domain's schemas are imported before the routes on purpose:
// built before @hono/zod-openapi extends zod, they must still be documented.
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type * as T from '../../src/client/types.js';
import {
  AbortResultSchema,
  MessageSchema,
  PartSchema,
  SessionDeletedSchema,
  SessionInfoSchema,
  ShellPartDataSchema,
  type Message,
  type SessionCreate,
  type SessionInfo,
  type ShellCommand,
  type ShellPartData,
} from '../../src/session/types.js';
import { createSession, openSse, startHarness, type Harness } from './helpers.js';

let h: Harness;
let rwx: string;

beforeEach(async () => {
  h = await startHarness();
  rwx = (await h.token()).token;
});

afterEach(async () => {
  await h.close();
});

const StrictSession = SessionInfoSchema.strict();
const StrictMessage = MessageSchema.extend({ parts: z.array(PartSchema.strict()) }).strict();

describe('session API shapes', () => {
  it('every session route answers exactly the domain shapes', async () => {
    const created = await createSession(h, rwx, { title: 'shapes' });
    expect(StrictSession.parse(created)).toEqual(created);
    expect(StrictSession.parse((await h.call('GET', `/session/${created.id}`, { token: rwx })).body)).toEqual(created);
    for (const s of (await h.call('GET', '/session', { token: rwx })).body.sessions) StrictSession.parse(s);
    StrictSession.parse((await h.call('PATCH', `/session/${created.id}`, { token: rwx, body: { title: 'renamed' } })).body);

    const ran = await h.call('POST', `/session/${created.id}/shell`, { token: rwx, body: { command: 'echo hi' } });
    expect(ran.status).toBe(200);
    const message = StrictMessage.parse(ran.body);
    expect(ShellPartDataSchema.strict().parse(message.parts[0].data)).toMatchObject({ stdout: 'hi\n', done: true });

    const stream = await openSse(`${h.url}/session/${created.id}/shell`, { method: 'POST', token: rwx, body: { command: 'true' } });
    await stream.ended;
    StrictMessage.parse(stream.events.at(-1)!.data.properties.message);

    for (const m of (await h.call('GET', `/session/${created.id}/message`, { token: rwx })).body.messages) StrictMessage.parse(m);
    AbortResultSchema.strict().parse((await h.call('POST', `/session/${created.id}/abort`, { token: rwx })).body);
    SessionDeletedSchema.strict().parse((await h.call('DELETE', `/session/${created.id}`, { token: rwx })).body);
  });

  it('GET /doc names the domain shapes, also when the domain was loaded before the routes', async () => {
    const r = await h.call('GET', '/doc', { token: rwx });
    expect(r.status).toBe(200);
    const schemas = r.body.components.schemas;
    for (const name of ['Session', 'Part', 'Message', 'SessionCreate', 'SessionPatch', 'MessageCreate', 'ShellCommand']) {
      expect(schemas[name], name).toBeDefined();
    }
    expect(schemas.Message.properties.parts.items).toEqual({ $ref: '#/components/schemas/Part' });
    expect(schemas.Session.properties.busy).toEqual({ type: 'boolean', description: 'Whether a prompt or shell command is running in it now' });
    expect(schemas.SessionCreate.additionalProperties).toBe(false);
    expect(r.body.paths['/session']!.get.responses['200'].content['application/json'].schema.properties.sessions.items).toEqual({
      $ref: '#/components/schemas/Session',
    });
  });

  // Checked by the type check (`tsc -p test`), which `npm test` runs.
  it("the typed client's session types are the domain's", () => {
    expectTypeOf<T.Session>().toEqualTypeOf<SessionInfo>();
    expectTypeOf<T.Message>().toEqualTypeOf<Message>();
    expectTypeOf<T.ShellPartData>().toEqualTypeOf<ShellPartData>();
    expectTypeOf<T.SessionCreate>().toEqualTypeOf<SessionCreate>();
    expectTypeOf<T.ShellCommand>().toEqualTypeOf<ShellCommand>();
  });
});
