// Shapes of what the server sends the page (README "API"), for the JSDoc types of the modules.
// Global on purpose: the modules name them in comments (`@param {Message} m`) without imports.
// They describe what the page reads, not everything the server sends; they are never served.

type Permission = 'read' | 'write' | 'execute';

/** GET /auth/whoami, and POST /auth/session (which adds `sessionKey`). */
interface Me {
  /** null with --no-auth. */
  id: string | null;
  name: string;
  permissions: Permission[];
  expiresAt: string | null;
  /** Only for a share link's token: `share`, and what it may watch. */
  kind?: string;
  target?: { type: 'pty' | 'session'; id: string };
}

interface Can {
  read: boolean;
  write: boolean;
  execute: boolean;
}

/** GET /pty, POST /pty. */
interface TerminalInfo {
  id: string;
  title: string;
  command: string;
  status: 'running' | 'exited';
  exitCode: number | null;
  signal: number | null;
  createdAt: string;
}

/** GET /session (in `sessions`), POST /session, GET /session/:id. */
interface SessionInfo {
  id: string;
  title: string;
  directory: string;
  busy: boolean;
  updatedAt: string;
}

/** A part's `data`: free-form JSON; these are the fields the page shows. */
interface PartData {
  text?: string;
  toolName?: string;
  input?: unknown;
  output?: unknown;
  isError?: boolean;
  message?: string;
  command?: string;
  stdout?: string;
  stderr?: string;
  stdoutTruncated?: boolean;
  stderrTruncated?: boolean;
  done?: boolean;
  exitCode?: number | null;
  signal?: string | null;
  timedOut?: boolean;
  aborted?: boolean;
  durationMs?: number | null;
  [key: string]: unknown;
}

interface Part {
  id: string;
  messageId: string;
  seq: number;
  type: string;
  data: PartData | null;
}

type MessageStatus = 'pending' | 'running' | 'completed' | 'error' | 'aborted';

interface Message {
  id: string;
  seq: number;
  role: 'user' | 'assistant' | 'shell';
  status: MessageStatus;
  createdAt: string;
  error: string | null;
  parts: Part[];
}

/** GET /file?path= */
interface FileListing {
  path: string;
  entries: FileEntry[];
  truncated: boolean;
}

interface FileEntry {
  name: string;
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number | null;
}

/** GET /file/content?path= (the version is the ETag header) */
interface FileContent {
  path: string;
  size: number;
  encoding: 'utf8' | 'base64';
  content: string;
}

/** GET /config: the values the server uses, each with its source. */
interface Settings {
  shell: string | null;
  modelUrl: string | null;
  model: string | null;
  apiKeySet: boolean;
  agentMaxSteps: number;
  sources: Record<'modelUrl' | 'model' | 'apiKey' | 'shell' | 'agentMaxSteps', SettingSource>;
}

interface SettingSource {
  source: 'file' | 'env' | 'default';
  /** With source env: the variable. */
  env?: string;
  /** The config file's value for it is not used. */
  overridden?: boolean;
  note?: string;
}

/** GET /audit (src/server/routes/audit.ts). */
interface AuditEvent {
  time: string;
  kind: string;
  tokenId: string | null;
  tokenName: string | null;
  address: string;
  [field: string]: unknown;
}

interface AuditResult {
  events: AuditEvent[];
  truncated: boolean;
  skippedLines: number;
  log: { ok: boolean; error: string | null; failingSince: string | null; lostLines: number };
}

/** The `properties` of an event on GET /event or on a session's own stream: free-form JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON read by plain JS modules; each reader checks what it uses
type EventProps = Record<string, any>;

/** What a screen returns when it is mounted. */
interface Mounted {
  dispose(): void;
  /** A lifecycle event from GET /event. */
  onEvent?(type: string, properties: EventProps): void;
  /** Before the route moves to another screen: false keeps this one (it has asked the user). */
  confirmLeave?(): boolean;
}

/** The screen on show: its route and what its mount returned. */
interface CurrentView extends Mounted {
  name: string;
  arg: string | null;
}
