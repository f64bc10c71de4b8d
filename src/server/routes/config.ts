import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { publicSettings, settingsShape, type SettingsPatch } from '../../config/settings.js';
import type { ServerContext } from '../context.js';
import { authErrors, errors, jsonContent } from './common.js';

const PublicSettings = z
  .object({
    shell: z.string().nullable(),
    modelUrl: z.string().nullable(),
    model: z.string().nullable(),
    apiKeySet: z.boolean(),
    agentMaxSteps: z.number().nullable(),
  })
  .openapi('Config');

const Patch = z
  .object({
    shell: settingsShape.shell.nullable().optional(),
    modelUrl: settingsShape.modelUrl.nullable().optional(),
    model: settingsShape.model.nullable().optional(),
    apiKey: settingsShape.apiKey.nullable().optional(),
    agentMaxSteps: settingsShape.agentMaxSteps.nullable().optional(),
  })
  .strict()
  .openapi('ConfigPatch');

const get = createRoute({
  method: 'get',
  path: '/config',
  summary: 'Server settings (never the API key: only whether one is set)',
  responses: { 200: jsonContent(PublicSettings, 'Settings'), ...authErrors },
});

const patch = createRoute({
  method: 'patch',
  path: '/config',
  summary:
    'Change settings (needs write + execute: settings decide what runs and where prompts go); null clears one. ' +
    '`shell` must be an existing executable. Changing modelUrl drops a stored apiKey unless one is given too.',
  request: { body: { content: { 'application/json': { schema: Patch } }, required: true } },
  responses: { 200: jsonContent(PublicSettings, 'Updated settings'), 400: errors[400], ...authErrors },
});

export function registerConfig(app: OpenAPIHono, ctx: ServerContext): void {
  app.openapi(get, async (c) => c.json(publicSettings(await ctx.settings.get()), 200));
  app.openapi(patch, async (c) => {
    const body: SettingsPatch = c.req.valid('json');
    const updated = publicSettings(await ctx.settings.update(body));
    const auth = c.get('auth');
    // Keys only: a value may be a secret (apiKey) or point at a server the caller controls.
    ctx.log.log('info', 'config.updated', { tokenId: auth.tokenId, keys: Object.keys(body).filter((k) => body[k as keyof SettingsPatch] !== undefined) });
    ctx.events.publish('config.updated', { config: updated, by: auth.tokenId });
    return c.json(updated, 200);
  });
}
