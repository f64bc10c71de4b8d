// In-process lifecycle event bus feeding `GET /event`. Carries lifecycle facts only
// (pty created/exited, session created/updated/deleted, message progress, config changed);
// never terminal output and never a secret.

export interface TetherEvent {
  type: string;
  properties: Record<string, unknown>;
  /**
   * The real path of the directory the event concerns (a terminal's cwd, a session's directory), for
   * filtering by token scope (src/auth/scope.ts `eventInScope`). Never sent to clients.
   */
  place?: string;
}

export type EventListener = (event: TetherEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  publish(type: string, properties: Record<string, unknown> = {}, place?: string): void {
    const event: TetherEvent = place === undefined ? { type, properties } : { type, properties, place };
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A broken subscriber must not stop delivery to the others.
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }

  /** Live subscribers (e.g. open `GET /event` streams); tests assert it returns to zero. */
  get subscriberCount(): number {
    return this.listeners.size;
  }
}
