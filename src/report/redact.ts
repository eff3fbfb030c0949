/** Secrets never reach output: every known secret value is replaced wherever it appears. */
export const SECRET_NAME = /(pass(word)?|passwd|secret|token|auth_pass|private_key_passphrase)$/i;

export class Redactor {
  private readonly secrets: string[];
  constructor(values: Iterable<string>) {
    this.secrets = [...new Set([...values].filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  }

  /** `secretValues`: values known to be secret whatever their name (everything decrypted from a vault). */
  static fromVars(
    varSets: Iterable<Record<string, unknown>>, extraNames: string[] = [], secretValues: Iterable<string> = [],
  ): Redactor {
    const vals: string[] = [...secretValues];
    for (const vars of varSets) {
      const marked = Array.isArray(vars.lvsrun_secret_vars) ? vars.lvsrun_secret_vars.map(String) : [];
      for (const [k, v] of Object.entries(vars)) {
        if ((SECRET_NAME.test(k) || marked.includes(k) || extraNames.includes(k)) && (typeof v === 'string' || typeof v === 'number')) vals.push(String(v));
      }
    }
    return new Redactor(vals);
  }

  text(s: string): string {
    let out = s;
    for (const sec of this.secrets) out = out.split(sec).join('********');
    return out;
  }

  /** A copy with secrets replaced in every string; a number that is itself a secret becomes the mask. */
  deep<T>(v: T): T {
    // Walking values, not JSON text: replacing inside JSON text breaks it when a secret is a number.
    const plain = JSON.parse(JSON.stringify(v) ?? 'null') as unknown;
    const walk = (x: unknown): unknown => {
      if (typeof x === 'string') return this.text(x);
      if (typeof x === 'number') return this.secrets.includes(String(x)) ? '********' : x;
      if (Array.isArray(x)) return x.map(walk);
      if (x && typeof x === 'object') {
        const o: Record<string, unknown> = {};
        for (const [k, val] of Object.entries(x)) {
          const prop = { value: walk(val), enumerable: true, writable: true, configurable: true };
          Object.defineProperty(o, this.text(k), prop);
        }
        return o;
      }
      return x;
    };
    return walk(plain) as T;
  }
}
