// Requests the server makes to itself. The MCP dispatcher calls the API in-process with the MCP
// client's own credential (src/mcp/api.ts) and marks the call with this symbol in the request's
// env: nothing that arrives over the network can carry a symbol, so the mark cannot be forged.
export const MCP_FORWARD = Symbol('tether.mcp-forward');

export function isMcpForward(env: unknown): boolean {
  return typeof env === 'object' && env !== null && (env as Record<symbol, unknown>)[MCP_FORWARD] === true;
}
