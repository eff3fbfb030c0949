import { ConfigError, type Where } from '../errors.js';
import { checkTemplateSyntax } from '../template/render.js';

const HINT = 'delegate_to takes the name of an inventory host, or a template such as "{{ item }}" that gives one';

/**
 * Why `name` cannot be a host to delegate to, whatever the inventory holds: a delegate is an
 * inventory host name, never text that could be read as an option, a command or a template.
 */
export function delegateNameProblem(name: string): string | undefined {
  if (!name.trim()) return 'is empty';
  if (/[\0-\x1f\x7f]/.test(name)) return 'holds a control character (a newline, a NUL...)';
  if (/\s/.test(name)) return 'holds a space';
  if (name.startsWith('-')) return 'starts with a dash';
  if (name.includes('{{') || name.includes('}}')) return 'holds template braces';
  if (name.length > 255) return 'is longer than 255 characters';
  return undefined;
}

/** At load: a template must parse; a plain name must be one a host can have (the inventory is checked later). */
export function checkDelegateTo(value: string, where: Where): void {
  if (value.includes('{{')) {
    checkTemplateSyntax(value, where);
    return;
  }
  const problem = delegateNameProblem(value);
  if (problem) {
    throw new ConfigError('E_CONFIG', `delegate_to ${JSON.stringify(value.slice(0, 80))} ${problem}`, {
      where,
      hint: HINT,
    });
  }
}

/** At run time: the rendered value names a host of the inventory, or the task fails with this error. */
export function delegateTarget(value: unknown, isHost: (name: string) => boolean, where: Where): string {
  if (typeof value !== 'string') {
    throw new ConfigError('E_CONFIG', `delegate_to gave ${describe(value)}, not a host name`, { where, hint: HINT });
  }
  const problem = delegateNameProblem(value);
  if (problem) {
    throw new ConfigError('E_CONFIG', `delegate_to ${JSON.stringify(value.slice(0, 80))} ${problem}`, {
      where,
      hint: HINT,
    });
  }
  if (!isHost(value)) {
    throw new ConfigError('E_CONFIG', `delegate_to ${JSON.stringify(value)} is not a host of the inventory`, {
      where,
      hint: 'lvsrun runs a delegated task over the SSH connection of an inventory host: add the host to the inventory',
    });
  }
  return value;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'nothing';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}
