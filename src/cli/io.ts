import { join } from 'node:path';
import type { Redactor } from '../text/redact.js';
import type { CommandDef } from './spec.js';

/** The terminal and environment a command runs with: main() passes it in, tests pass their own. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /**
   * The command's live redactor: commands add the secrets they load; everything written through
   * `out` and `err` (error messages included) passes through it. main() makes one when absent.
   */
  redactor?: Redactor;
}

/** A subcommand: its definition (parser, --help and completion all read it) and its handler. */
export interface Command {
  def: CommandDef;
  run: (argv: string[], io: Io) => Promise<number>;
}

/** Where the runs of the working directory keep their journals. */
export const runsDir = (io: Io): string => join(io.cwd, '.lvsrun', 'runs');
