// @ts-check
// What the login page says when POST /auth/session refuses a token. Composed from the refusal's
// code (the stable part of the answer), each reason said once: the server's message for a 401
// is itself "that token was not accepted", so it is never wrapped in the same words again.

/**
 * @param {number} status
 * @param {{ code: string, message: string }} error
 * @param {string | null} retryAfter the Retry-After header
 */
export function loginRefusedMessage(status, error, retryAfter) {
  if (status === 429) return `Too many failed attempts. Try again in ${retryAfter || 'a few'} seconds.`;
  if (status === 400 || error.code === 'malformed_token') {
    return 'That token was not accepted: a tether token is "tether_" followed by 28 letters and digits; paste it whole.';
  }
  if (error.code === 'expired_token') return 'That token has expired. Create a new one on the server.';
  if (error.code === 'unknown_token') return 'That token was not accepted: it was revoked, or this server never issued it.';
  if (status === 401 && error.code !== 'auth_disabled') return 'That token was not accepted.';
  return `Login failed: ${error.message}`;
}
