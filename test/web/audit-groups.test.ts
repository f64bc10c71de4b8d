// The web Audit page's kind filter offers every group of the audit vocabulary, and nothing else:
// a kind added to src/audit/kinds.ts without a place in the filter could never be picked there.
import { describe, expect, it } from 'vitest';
import { AUDIT_GROUPS } from '../../src/audit/kinds.js';
import { GROUPS } from '../../src/web/modules/audit-groups.js';

describe('the Audit page kind filter', () => {
  it('covers every group of the audit vocabulary exactly once', () => {
    const offered = GROUPS.flatMap(([value]) => (value === '' ? [] : value.split(',')));
    expect([...offered].sort()).toEqual([...AUDIT_GROUPS].sort());
  });
});
