import fs from 'node:fs/promises';
import path from 'node:path';
import { tool, type ToolSet } from 'ai';
import { z } from 'zod';
import { TetherError, errorMessage } from '../errors.js';
import { checkPin, displayPath, type Root } from '../fs/confine.js';
import { listDirectory, openFile, readAtMost, writeFileConfined } from '../fs/io.js';
import { outsideScope, type Place } from '../fs/place.js';
import { idOf, reservedPaths, type ReservedPaths } from '../fs/reserved.js';
import { DEFAULT_SHELL } from '../proc/run.js';
import { runLocalCommand, type CommandResult, type RunCommand } from './command.js';
import { looksBinary, readLineWindow } from './files.js';

// The agent's tools. Every file is reached through src/fs (the same confinement as the file
// routes): `..`, absolute paths elsewhere, symlinks pointing out (also ones swapped in while a
// tool runs) and tether's own files are refused. The directory itself is pinned by device and
// inode (at session creation, or when the tools are made): once it has been moved or replaced,
// e.g. by a command that renames it and puts a symlink in its place, every tool call is refused.
// A run started by a scoped token also carries its Place: src/fs confines every path to it as well.
// A failing tool never throws into the loop: it returns `{ error }`, which the model sees as the
// tool's result and can react to.

export const READ_DEFAULT_LINES = 2000;
export const READ_MAX_BYTES = 100 * 1024;
export const LIST_MAX_ENTRIES = 1000;
export const WRITE_MAX_BYTES = 5 * 1024 * 1024;
export const EDIT_MAX_FILE_BYTES = 10 * 1024 * 1024;
export const COMMAND_DEFAULT_TIMEOUT_MS = 60_000;
export const COMMAND_MAX_TIMEOUT_MS = 10 * 60_000;

export interface ToolFailure {
  error: string;
}

export function isToolFailure(output: unknown): output is ToolFailure {
  return typeof output === 'object' && output !== null && typeof (output as ToolFailure).error === 'string';
}

export interface ToolOptions {
  /** The session directory; all paths are confined to it. */
  directory: string;
  /** `dev:ino` the directory must still be (the session's, pinned at its creation); default: what it is now. */
  pin?: string;
  /** Paths never reached; default tether's config, data and state directories. */
  reserved?: ReservedPaths;
  /** Runner for `run_command`; default the server's one command runner (runLocalCommand). */
  runCommand?: RunCommand;
  /**
   * The scopes of the token that started the run: every file tool is confined to them as well as to
   * the directory (src/fs checks both), and no tool runs at all, run_command included, once the
   * directory is not inside them.
   */
  place?: Place;
  /** Called with each valid tool call just before the tool acts (the audit trail). */
  onToolCall?: (tool: string, input: unknown) => void;
}

/** A tool failure with a message meant for the model. */
class ToolError extends Error {}

/** The confinement's errors, phrased for the model. */
function toolMessage(err: unknown, shown: string, isDir = `${shown} is a directory`): string {
  switch (err instanceof TetherError ? err.code : (err as NodeJS.ErrnoException).code) {
    case 'not_found':
    case 'ENOENT':
      return `${shown} does not exist`;
    case 'is_directory':
    case 'EISDIR':
      return isDir;
    case 'not_directory':
    case 'ENOTDIR':
      return `a parent of ${shown} is not a directory`;
    case 'permission_denied':
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ${shown}`;
    default:
      return errorMessage(err);
  }
}

/** The tool implementations as plain async functions (the AI SDK wrappers are in createTools). */
export function createToolHandlers(options: ToolOptions) {
  const { directory } = options;
  const runCommand = options.runCommand ?? runLocalCommand;
  // Pinned now, before any tool (a command included) can have moved the directory.
  const rootReady: Promise<Root> = (async () => {
    const real = await fs.realpath(directory);
    const pin = options.pin ?? idOf(await fs.lstat(real, { bigint: true }));
    return { real, pin, reserved: options.reserved ?? reservedPaths(real), ...(options.place && { place: options.place }) };
  })();
  rootReady.catch(() => {}); // reported by the first tool call

  /** The root, still the pinned directory, and `input` as the model should see it. */
  const enter = async (input?: string) => {
    const root = await rootReady.catch(() => {
      throw new ToolError(`the working directory ${directory} does not exist`);
    });
    await checkPin(root);
    if (root.place !== undefined && !root.place.contains(root.real)) throw outsideScope(`the working directory ${root.real}`, root.place);
    const shown = input === undefined ? '.' : displayPath(root.real, path.resolve(root.real, input));
    return { root, shown };
  };

  async function guard<T>(fn: () => Promise<T>): Promise<T | ToolFailure> {
    try {
      return await fn();
    } catch (err) {
      return { error: errorMessage(err) };
    }
  }

  /** Runs `fn`, rephrasing the confinement's errors for the model. */
  const fsStep = <T>(p: Promise<T>, shown: string, isDir?: string): Promise<T> =>
    p.catch((err) => Promise.reject(new ToolError(toolMessage(err, shown, isDir))));

  return {
    read_file: (input: { path: string; offset?: number | null; limit?: number | null }) =>
      guard(async () => {
        const { root, shown } = await enter(input.path);
        const file = await fsStep(openFile(root, input.path), shown, `${shown} is a directory; use list_files to see its entries`);
        try {
          const name = displayPath(root.real, file.real);
          if (await looksBinary(file.handle)) throw new ToolError(`${name} looks like a binary file (${file.size} bytes); not shown`);
          const offset = input.offset ?? 1;
          const w = await readLineWindow(file.handle, offset, input.limit ?? READ_DEFAULT_LINES, READ_MAX_BYTES);
          if (w.totalLines !== undefined && offset > Math.max(w.totalLines, 1)) {
            throw new ToolError(`offset ${offset} is past the end of ${name} (${w.totalLines} lines)`);
          }
          return {
            path: name,
            content: w.content,
            startLine: w.startLine,
            endLine: w.endLine,
            ...(w.totalLines !== undefined ? { totalLines: w.totalLines } : {}),
            ...(w.truncated ? { truncated: true, note: `more follows; call read_file with offset ${w.nextOffset} to continue` } : {}),
          };
        } finally {
          await file.handle.close();
        }
      }),

    list_files: (input: { path?: string | null }) =>
      guard(async () => {
        const { root, shown } = await enter(input.path ?? '.');
        const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
        const dir = await fsStep(listDirectory(root, input.path ?? '.', { max: LIST_MAX_ENTRIES, order: byName }), shown);
        const names = dir.entries.map((e) => (e.type === 'directory' ? `${e.name}/` : e.type === 'symlink' ? `${e.name}@` : e.name)).sort();
        return {
          path: displayPath(root.real, dir.real),
          entries: names,
          ...(dir.truncated ? { truncated: true, total: dir.total } : {}),
        };
      }),

    write_file: (input: { path: string; content: string }) =>
      guard(async () => {
        const bytes = Buffer.byteLength(input.content, 'utf8');
        if (bytes > WRITE_MAX_BYTES) throw new ToolError(`content is ${bytes} bytes; at most ${WRITE_MAX_BYTES} can be written at once`);
        const { root, shown } = await enter(input.path);
        const r = await fsStep(writeFileConfined(root, input.path, input.content, { createParents: true }), shown);
        return { path: displayPath(root.real, r.real), bytes, created: r.created };
      }),

    edit_file: (input: { path: string; old_string: string; new_string: string }) =>
      guard(async () => {
        if (input.old_string === '') throw new ToolError('old_string must not be empty (to create or overwrite a file use write_file)');
        if (input.old_string === input.new_string) throw new ToolError('old_string and new_string are identical; nothing to change');
        const { root, shown } = await enter(input.path);
        const file = await fsStep(openFile(root, input.path), shown);
        let text: string;
        try {
          if (file.size > EDIT_MAX_FILE_BYTES)
            throw new ToolError(`${shown} is ${file.size} bytes; edit_file handles files up to ${EDIT_MAX_FILE_BYTES} bytes`);
          text = (await readAtMost(file.handle, file.size)).toString('utf8');
        } finally {
          await file.handle.close();
        }
        const first = text.indexOf(input.old_string);
        if (first === -1) {
          throw new ToolError(
            `old_string was not found in ${shown}; it must match exactly, including whitespace and indentation (read the file again and copy the text)`,
          );
        }
        const count = countOccurrences(text, input.old_string);
        if (count > 1) {
          throw new ToolError(`old_string occurs ${count} times in ${shown}; it must occur exactly once. Include more surrounding lines to make it unique`);
        }
        // Slicing, not String.replace: `$&` and friends in new_string must stay literal.
        const updated = text.slice(0, first) + input.new_string + text.slice(first + input.old_string.length);
        // Back to the file that was read (its verified real path), not to whatever the input names now.
        await fsStep(writeFileConfined(root, file.real, updated, { createParents: false }), shown);
        return { path: displayPath(root.real, file.real), replacements: 1, line: lineOf(text, first) };
      }),

    run_command: (input: { command: string; timeoutMs?: number | null }, signal?: AbortSignal) =>
      guard(async () => {
        if (input.command.trim() === '') throw new ToolError('command must not be empty');
        const timeoutMs = Math.min(input.timeoutMs ?? COMMAND_DEFAULT_TIMEOUT_MS, COMMAND_MAX_TIMEOUT_MS);
        const { root } = await enter();
        const r: CommandResult = await runCommand(input.command, { cwd: root.real, timeoutMs, ...(signal ? { signal } : {}) });
        if (r.aborted) throw new ToolError('the command was stopped because the run was aborted');
        return {
          exitCode: r.exitCode,
          ...(r.signal ? { signal: r.signal } : {}),
          output: r.output,
          ...(r.truncated ? { truncated: true } : {}),
          ...(r.timedOut
            ? { timedOut: true, note: `killed after ${timeoutMs} ms; pass a larger timeoutMs (at most ${COMMAND_MAX_TIMEOUT_MS}) if it needs longer` }
            : {}),
        };
      }),
  };
}

/** Overlapping count: `aa` in `aaa` is ambiguous (twice), which is what uniqueness cares about. */
function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) count++;
  return count;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

// Optional numbers are `.nullish()` because many models send `null` for parameters they skip.
const pathSchema = z.string().describe('Path relative to the working directory');

/** The tools in the AI SDK's shape, with zod input schemas. */
export function createTools(options: ToolOptions): ToolSet {
  const h = createToolHandlers(options);
  // Told before the tool acts, so the record exists even if the action never returns.
  const before = <T>(tool: string, input: T): T => {
    options.onToolCall?.(tool, input);
    return input;
  };
  return {
    read_file: tool({
      description:
        `Read a text file. Returns its lines with their exact line endings (no line numbers added). ` +
        `offset is the first line (1-based, default 1), limit the number of lines (default ${READ_DEFAULT_LINES}); ` +
        `at most ${READ_MAX_BYTES} bytes are returned per call, and "note" says how to continue.`,
      inputSchema: z.object({
        path: pathSchema,
        offset: z.number().int().min(1).nullish().describe('First line to read, 1-based'),
        limit: z.number().int().min(1).nullish().describe('Maximum number of lines'),
      }),
      execute: (input) => h.read_file(before('read_file', input)),
    }),
    list_files: tool({
      description: 'List the entries of a directory (not recursive). Directories end in "/", symlinks in "@".',
      inputSchema: z.object({ path: pathSchema.nullish().describe('Directory relative to the working directory; default "."') }),
      execute: (input) => h.list_files(before('list_files', input)),
    }),
    write_file: tool({
      description: 'Create or overwrite a file with the given content. Missing parent directories are created.',
      inputSchema: z.object({ path: pathSchema, content: z.string().describe('The complete new content of the file') }),
      execute: (input) => h.write_file(before('write_file', input)),
    }),
    edit_file: tool({
      description:
        'Replace one exact occurrence of old_string with new_string in a file. old_string must match the file ' +
        'exactly (whitespace and indentation included) and occur exactly once; include surrounding lines to make it unique.',
      inputSchema: z.object({
        path: pathSchema,
        old_string: z.string().describe('Exact text to replace'),
        new_string: z.string().describe('Replacement text'),
      }),
      execute: (input) => h.edit_file(before('edit_file', input)),
    }),
    run_command: tool({
      description:
        `Run a shell command with ${DEFAULT_SHELL} -c in the working directory, stdin closed. Returns the exit code and the ` +
        `combined stdout and stderr (long output keeps its beginning and end). Killed after timeoutMs ` +
        `(default ${COMMAND_DEFAULT_TIMEOUT_MS}, at most ${COMMAND_MAX_TIMEOUT_MS}); background processes are killed when it finishes. ` +
        `A process that starts a session of its own (setsid, a daemon that detaches) escapes that cleanup and keeps ` +
        `running after the command, the run and the server have ended.`,
      inputSchema: z.object({
        command: z.string().describe('The shell command'),
        timeoutMs: z.number().int().min(1).nullish().describe('Timeout in milliseconds'),
      }),
      execute: (input, { abortSignal }) => h.run_command(before('run_command', input), abortSignal),
    }),
  };
}
