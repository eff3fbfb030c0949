import { ConfigError } from '../errors.js';

/** One line from the terminal with echo off (for passwords); undefined when stdin is not a terminal. */
export function terminalPrompt(): ((question: string) => Promise<string>) | undefined {
  const input = process.stdin;
  if (!input.isTTY) return undefined;
  return (question) =>
    new Promise((done, fail) => {
      // Echo goes off before the question shows, so nothing typed after it can appear on the screen.
      input.setRawMode(true);
      process.stderr.write(question);
      let line = '';
      const finish = (err?: Error): void => {
        input.off('data', onData);
        input.setRawMode(false);
        input.pause();
        process.stderr.write('\n');
        if (err) fail(err);
        else done(line);
      };
      const onData = (chunk: Buffer): void => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return finish();
          if (ch === '\u0003' || (ch === '\u0004' && !line)) {
            return finish(new ConfigError('E_USAGE', 'no vault password typed (input ended)'));
          }
          if (ch === '\u007f' || ch === '\b') line = [...line].slice(0, -1).join('');
          else if (ch >= ' ') line += ch;
        }
      };
      input.resume();
      input.on('data', onData);
    });
}
