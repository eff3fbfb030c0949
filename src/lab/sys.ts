import { execFile } from 'node:child_process';
import { LvsrunError } from '../errors.js';

/** Run a local program with argv (no shell). Rejects with E_LAB and its stderr. */
export function run(
  cmd: string,
  args: string[],
  opts: { ok?: number[]; input?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as NodeJS.ErrnoException).code === 'number'
          ? Number((err as NodeJS.ErrnoException).code)
          : 1
        : 0;
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT')
        return reject(
          new LvsrunError('E_LAB', `${cmd} is not installed`, {
            hint: 'the lab needs iproute2, util-linux and openssh-server: bash scripts/setup.sh installs them',
          }),
        );
      if (code !== 0 && !(opts.ok ?? []).includes(code))
        return reject(
          new LvsrunError('E_LAB', `${cmd} ${args.join(' ')} failed: ${String(stderr).trim() || `exit ${code}`}`),
        );
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) p.stdin?.end(opts.input);
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
