// The terminal manager's public surface; see manager.ts.
export { PtyManager } from './manager.js';
export { CLOSE_TOO_SLOW } from './types.js';
export type {
  AttachHandle,
  CreatePtyOptions,
  PtyClient,
  PtyInfo,
  PtyManagerOptions,
  PtyStatus,
  UpdatePtyOptions,
} from './types.js';
