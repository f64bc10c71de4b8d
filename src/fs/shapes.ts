// The shapes of the file and search answers, defined once: the routes document and send them, the
// client imports their types (type-only). Plain zod: the routes add OpenAPI names.
import { z } from 'zod';

export const FileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(['file', 'directory', 'symlink', 'other']),
  size: z.number().nullable(),
});
export const FileListingSchema = z.object({ path: z.string(), entries: z.array(FileEntrySchema), truncated: z.boolean() });
export const FileContentSchema = z.object({ path: z.string(), size: z.number(), encoding: z.enum(['utf8', 'base64']), content: z.string() });
export const FILE_ENCODINGS = ['utf8', 'base64'] as const;
export const FileWriteSchema = z
  .object({
    content: z.string(),
    encoding: z
      .enum(FILE_ENCODINGS, { error: 'encoding must be "utf8" (the default: content is the text) or "base64" (content is the bytes, base64)' })
      .optional(),
    createParents: z.boolean().optional(),
  })
  .strict();
export const FileWrittenSchema = z.object({ path: z.string(), size: z.number(), etag: z.string(), created: z.boolean() });
export const FindFileResultSchema = z.object({
  results: z.array(z.object({ path: z.string(), type: z.enum(['file', 'directory']) })),
  truncated: z.boolean(),
});
export const FindTextResultSchema = z.object({
  results: z.array(z.object({ path: z.string(), line: z.number(), column: z.number(), text: z.string() })),
  truncated: z.boolean(),
});

export type FileListing = z.infer<typeof FileListingSchema>;
export type FileContent = z.infer<typeof FileContentSchema>;
export type FileWrite = z.infer<typeof FileWriteSchema>;
export type FileWritten = z.infer<typeof FileWrittenSchema>;
export type FindFileResult = z.infer<typeof FindFileResultSchema>;
export type FindTextResult = z.infer<typeof FindTextResultSchema>;
