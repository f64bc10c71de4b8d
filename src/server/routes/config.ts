import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { PublicSettingsSchema, SettingsPatchSchema, type SettingsPatch } from '../../config/settings.js';
import { auditActor } from '../audit.js';
import type { ServerContext } from '../context.js';
import { authErrors, doc, errors, jsonContent } from './common.js';

const PublicSettings = doc(PublicSettingsSchema).openapi('Config');
const Patch = doc(SettingsPatchSchema).openapi('ConfigPatch');

const get = createRoute({
  method: 'get',
  path: '/config',
  summary:
    'Server settings: the value the server uses for each, and its source (the environment wins over the config file, then the default). ' +
    'Never the API key: only whether one is used.',
  responses: { 200: jsonContent(PublicSettings, 'Settings'), ...authErrors },
});

const patch = createRoute({
  method: 'patch',
  path: '/config',
  summary:
    'Change settings (needs write + execute: settings decide what runs and where prompts go); null clears one. ' +
    '`shell` must be an existing executable. Changing modelUrl drops a stored apiKey unless one is given too. ' +
    'Answers like GET /config: a setting the environment sets keeps its value there (marked overridden).',
  request: { body: { content: { 'application/json': { schema: Patch } }, required: true } },
  responses: { 200: jsonContent(PublicSettings, 'Updated settings'), 400: errors[400], ...authErrors },
});

export function registerConfig(app: OpenAPIHono, ctx: ServerContext): void {
  app.openapi(get, async (c) => c.json(await ctx.settings.public(), 200));
  app.openapi(patch, async (c) => {
    const body: SettingsPatch = c.req.valid('json');
    await ctx.settings.update(body);
    const updated = await ctx.settings.public();
    const auth = c.get('auth');
    // Keys only: a value may be a secret (apiKey) or point at a server the caller controls.
    const keys = Object.keys(body).filter((k) => body[k as keyof SettingsPatch] !== undefined);
    ctx.log.log('info', 'config.updated', { tokenId: auth.tokenId, keys });
    ctx.audit.record('config.update', auditActor(c, ctx.clientAddress), { keys });
    ctx.events.publish('config.updated', { config: updated, by: auth.tokenId });
    return c.json(updated, 200);
  });
}
