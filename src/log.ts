// Structured logs: one JSON object per line on stderr. Never a secret: tokens appear by id only.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  return {
    log(level, event, fields = {}) {
      write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + '\n');
    },
  };
}

export const silentLogger: Logger = { log() {} };
