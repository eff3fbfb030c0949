import type { EngineEvent, Reporter } from './types.js';

/** The engine talks to the outside only through events; reporters subscribe. */
export class EventBus {
  private readonly reporters: Reporter[] = [];
  add(r: Reporter): this {
    this.reporters.push(r);
    return this;
  }
  emit(e: EngineEvent): void {
    for (const r of this.reporters) r.on(e);
  }
  async close(): Promise<void> {
    for (const r of this.reporters) await r.close?.();
  }
}
