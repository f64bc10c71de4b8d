// The terminal manager's public surface; see manager.ts.
export { PtyManager } from './manager.js';
export { CLOSE_TOO_SLOW } from './types.js';
export type { AttachHandle, PtyClient, PtyManagerOptions } from './types.js';
export type { CreatePty, CreatePtyOptions, PtyClientMessage, PtyInfo, PtyServerMessage, PtyStatus, PtyTicket, UpdatePty } from './shapes.js';
