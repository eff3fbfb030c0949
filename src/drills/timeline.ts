/** What a drill saw, in milliseconds since it started: events and one entry per probe request. */
export interface DrillEvent {
  t: number;
  event: string;
  host?: string;
  detail?: string;
}
export interface ProbeSample {
  t: number;
  ok: boolean;
  ms?: number;
  error?: string;
}

export interface DrillResult {
  drill: string;
  runId: string;
  started: string;
  target: string;
  probe: string;
  ok: boolean;
  verdict: string;
  metrics: Record<string, number | string | null>;
  events: DrillEvent[];
  probes: ProbeSample[];
}

export class Timeline {
  readonly events: DrillEvent[] = [];
  readonly probes: ProbeSample[] = [];
  private readonly t0 = performance.now();
  readonly started = new Date().toISOString();

  now(): number {
    return Math.round(performance.now() - this.t0);
  }

  mark(event: string, host?: string, detail?: string): number {
    const t = this.now();
    this.events.push({ t, event, ...(host ? { host } : {}), ...(detail ? { detail } : {}) });
    return t;
  }

  at(event: string): number | undefined {
    return this.events.find((e) => e.event === event)?.t;
  }

  probe(s: Omit<ProbeSample, 't'> & { t?: number }): void {
    this.probes.push({
      t: s.t ?? this.now(),
      ok: s.ok,
      ...(s.ms !== undefined ? { ms: s.ms } : {}),
      ...(s.error ? { error: s.error } : {}),
    });
  }
}

/** Failed requests and the outage: from the first failed probe after `from` to the next success. */
export function outage(
  probes: ProbeSample[],
  from: number,
): { failed: number; firstFail: number | null; recovered: number | null } {
  const after = probes.filter((p) => p.t >= from);
  const firstFail = after.find((p) => !p.ok)?.t ?? null;
  const recovered = firstFail === null ? null : (after.find((p) => p.ok && p.t > firstFail)?.t ?? null);
  return { failed: after.filter((p) => !p.ok).length, firstFail, recovered };
}
