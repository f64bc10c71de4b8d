// Helpers for the audit tests: a temp state directory, reading every line of every file raw.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditEvent } from '../../src/audit/kinds.js';
import { parseLine } from '../../src/audit/format.js';

export function tempDir(prefix = 'tether-audit-'): { dir: string; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir: path.join(root, 'state', 'tether'), cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** The audit files in `dir`, oldest first. */
export function filesOldestFirst(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((n) => ({ n, m: /^audit(?:\.(\d+))?\.jsonl$/.exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(b.m![1] ?? 0) - Number(a.m![1] ?? 0))
    .map((x) => path.join(dir, x.n));
}

/** Every non-blank line, oldest first, parsed (null for a line that is not an event). */
export function rawLines(dir: string): { line: string; event: AuditEvent | null }[] {
  const out: { line: string; event: AuditEvent | null }[] = [];
  for (const f of filesOldestFirst(dir)) {
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) if (line.trim() !== '') out.push({ line, event: parseLine(line) });
  }
  return out;
}

export const events = (dir: string): AuditEvent[] => rawLines(dir).flatMap((l) => (l.event ? [l.event] : []));

export const actor = (tokenId: string | null = 'tok_test', tokenName: string | null = 'tester', address = '127.0.0.1') => ({ tokenId, tokenName, address });
