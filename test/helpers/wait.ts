// Condition waits with deadlines: tests never sleep for a fixed time.
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeout = 10_000, interval = 20, what = 'condition' }: { timeout?: number; interval?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeout;
  let lastErr: string | undefined;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${lastErr ? `: ${lastErr}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
