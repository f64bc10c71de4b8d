// The server's side of the audit trail: who a request's actor is, and the authentication failures
// the guard and the web login log, copied into the audit log after the failure collapsing
// (failure-log.ts), so the audit log grows by at most as much a minute as the server log does.
import type { Context } from 'hono';
import type { AuditActor } from '../audit/kinds.js';
import type { AuditSink } from '../audit/log.js';
import type { Logger } from '../log.js';
import { FAILURE_EVENT, SUMMARY_EVENT } from './failure-log.js';

/** The token that made the request (after the guard) and the address it came from. */
export function auditActor(c: Context, clientAddress: (c: Context) => string): AuditActor {
  const auth = c.get('auth') as { tokenId: string | null; name: string } | undefined;
  return { tokenId: auth?.tokenId ?? null, tokenName: auth?.name ?? null, address: clientAddress(c) };
}

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** A logger that passes everything to `inner` and copies the failure lines into the audit log. */
export function auditFailures(inner: Logger, audit: AuditSink): Logger {
  return {
    log(level, event, fields = {}) {
      inner.log(level, event, fields);
      if (event === FAILURE_EVENT) {
        audit.record(
          'auth.failure',
          { tokenId: typeof fields.tokenId === 'string' ? fields.tokenId : null, tokenName: null, address: str(fields.address, 'unknown') },
          {
            reason: str(fields.reason),
            via: str(fields.via),
            method: str(fields.method),
            path: str(fields.path),
            ...(fields.throttled === true ? { throttled: true } : {}),
          },
        );
      } else if (event === SUMMARY_EVENT) {
        audit.record(
          'auth.failure.summary',
          // The address is the network the failures came from (an IPv4 address, an IPv6 /64).
          { tokenId: null, tokenName: null, address: str(fields.key, 'unknown') },
          {
            failures: num(fields.failures),
            notLoggedIndividually: num(fields.notLoggedIndividually),
            since: str(fields.since),
            windowSeconds: num(fields.windowSeconds),
            ...(typeof fields.distinctKeys === 'number' ? { distinctKeys: fields.distinctKeys } : {}),
          },
        );
      }
    },
  };
}
