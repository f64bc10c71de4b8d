import { z } from '@hono/zod-openapi';

/**
 * A domain schema made ready for `.openapi(name)`. zod 4 installs a schema's methods when the schema
 * is built, so one the domain built before @hono/zod-openapi extended zod has no `.openapi()`; a
 * clone, built now, has (same definition).
 */
export const doc = <T extends z.ZodType>(schema: T): T => schema.clone();

export const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).openapi('Error');

const err = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

/** The responses every authenticated route can give, for the OpenAPI document. */
export const authErrors = {
  401: err('Missing, malformed, unknown or expired token'),
  403: err("The token lacks a needed permission, or the resource is outside the project or the token's scopes (outside_scope)"),
  429: err('Too many failed authentication attempts from this address'),
};

export const errors = {
  400: err('Invalid input; the message names the field'),
  404: err('Not found'),
  409: err('Conflict'),
  413: err('Too large'),
  503: err('Unavailable'),
};

export const jsonContent = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
