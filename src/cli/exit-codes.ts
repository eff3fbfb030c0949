/** Documented in docs/cli.md. */
export const EXIT = {
  OK: 0,
  BAD_INPUT: 1,
  TASK_FAILED: 2,
  ROLLBACK_FAILED: 3,
  UNREACHABLE: 4,
  INTERRUPTED: 130,
} as const;
