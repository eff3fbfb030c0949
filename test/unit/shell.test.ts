import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { nest, quote, sh } from '../../src/transport/shell.js';

const run = (cmd: string): string => execFileSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });

describe('quoting by construction', () => {
  it('passes hostile values through the shell as one literal word', () => {
    for (const v of ["a'b", '$(touch /tmp/pwned)', '`id`', 'a b\nc', '; rm -rf /', '"x"', '', '*', '-n']) {
      expect(run(sh`printf %s ${v}`)).toBe(v);
    }
  });
  it('leaves safe words bare and quotes the rest', () => {
    expect(quote('net.ipv4.ip_forward=1')).toBe('net.ipv4.ip_forward=1');
    expect(quote('a b')).toBe("'a b'");
    expect(quote("it's")).toBe(`'it'\\''s'`);
  });
  it('expands arrays to several words and nests built commands verbatim', () => {
    expect(run(sh`printf '%s|' ${['a b', 'c']}`)).toBe('a b|c|');
    const inner = sh`echo ${'x y'}`;
    expect(run(sh`${nest(inner)} && echo done`)).toBe('x y\ndone\n');
  });
});
