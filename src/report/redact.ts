/** Secrets never reach output: every known secret value is replaced wherever it appears. */
export const SECRET_NAME = /(pass(word)?|passwd|secret|token|auth_pass|private_key_passphrase)$/i;

export class Redactor {
  private readonly secrets: string[];
  constructor(values: Iterable<string>) {
    this.secrets = [...new Set([...values].filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  }

  static fromVars(varSets: Iterable<Record<string, unknown>>, extraNames: string[] = []): Redactor {
    const vals: string[] = [];
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

  deep<T>(v: T): T {
    return JSON.parse(this.text(JSON.stringify(v) ?? 'null')) as T;
  }
}
