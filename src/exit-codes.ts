/** The one map of exit codes, used by the run's recap and by the CLI; documented in docs/cli.md. */
export const EXIT = {
  OK: 0,
  BAD_INPUT: 1,
  TASK_FAILED: 2,
  ROLLBACK_FAILED: 3,
  UNREACHABLE: 4,
  /** lvsrun could not do its own part: the journal could not be written, the lab could not start. */
  ENVIRONMENT: 5,
  /** A bug in lvsrun (BSD's EX_SOFTWARE): never a result of the input. */
  INTERNAL: 70,
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Errors that mean a host could not be reached or trusted, rather than bad input. */
const UNREACHABLE_CODES = new Set(['E_TRANSPORT', 'E_AUTH', 'E_HOSTKEY', 'E_TIMEOUT']);
const ENVIRONMENT_CODES = new Set(['E_JOURNAL', 'E_LAB']);

/** The exit code for a typed error that ended a command. */
export function exitCodeForError(code: string): ExitCode {
  if (UNREACHABLE_CODES.has(code)) return EXIT.UNREACHABLE;
  if (ENVIRONMENT_CODES.has(code)) return EXIT.ENVIRONMENT;
  return EXIT.BAD_INPUT;
}
