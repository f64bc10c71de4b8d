// A bounded map whose entries expire: pending authorization requests and codes. At the bound the
// oldest entry goes (they are all short-lived, and an old one is the least likely still wanted).
export class ExpiringMap<V> {
  private readonly map = new Map<string, { value: V; expiresMs: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  set(key: string, value: V): number {
    const t = this.now();
    this.sweep(t);
    this.map.delete(key);
    while (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    const expiresMs = t + this.ttlMs;
    this.map.set(key, { value, expiresMs });
    return expiresMs;
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expiresMs <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  expiresAt(key: string): number | undefined {
    return this.get(key) === undefined ? undefined : this.map.get(key)!.expiresMs;
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }

  private sweep(t: number): void {
    for (const [k, e] of this.map) if (e.expiresMs <= t) this.map.delete(k);
  }
}
