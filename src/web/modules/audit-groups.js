// @ts-check
// The Audit page's kind filter, apart from the page so that a test can hold it to the server's vocabulary.

/** The groups GET /audit accepts for `kind` (src/audit/kinds.ts), most asked-for first; between
 * them every group (test/web/audit-groups.test.ts). */
export const GROUPS = [
  ['', 'all kinds'],
  ['pty,shell,agent', 'what ran (terminals, commands, agent tools)'],
  ['auth,web', 'logins and failed authentication'],
  ['token,pair,share,oauth', 'tokens, pairing, share links, OAuth clients'],
  ['file', 'files written or deleted'],
  ['config', 'settings changed'],
  ['server,audit', 'server start/stop, audit log gaps'],
];
