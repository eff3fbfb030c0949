import { describe, expect, it } from 'vitest';
import { parseYamlText } from '../../src/yaml/source.js';
import { MASK, Redactor } from '../../src/text/redact.js';
import { VaultKeyring } from '../../src/vault/keyring.js';

describe('Redactor', () => {
  it('finds secret-named values at any depth, in lists, and renders templated ones', () => {
    const red = Redactor.fromVars(
      [
        {
          creds: { user: 'admin', password: 'nested-pw' },
          api_token: ['tok-one', { deeper: 'tok-two' }],
          x_password: '{{ real }}',
          real: 'rendered-pw',
          plain: 'not-secret',
        },
      ],
      [],
      [],
      (s) => s.replace('{{ real }}', 'rendered-pw'),
    );
    const out = red.text('nested-pw tok-one tok-two rendered-pw not-secret admin');
    expect(out).toBe(`${MASK} ${MASK} ${MASK} ${MASK} not-secret admin`);
  });

  it('masks a secret as written, JSON-escaped, and line by line', () => {
    const red = new Redactor(['a"b\\c\nsecond-line']);
    expect(red.text(JSON.stringify({ v: 'a"b\\c\nsecond-line' }))).toBe(`{"v":"${MASK}"}`);
    expect(red.text('+a"b\\c\n+second-line')).toBe(`+${MASK}\n+${MASK}`);
  });

  it('grows while in use: a value added later is masked from then on', () => {
    const red = new Redactor();
    expect(red.text('later-secret')).toBe('later-secret');
    red.addValue({ stdout: 'later-secret', rc: 0 });
    expect(red.text('x later-secret y')).toBe(`x ${MASK} y`);
    expect(red.deep({ n: 123456 })).toEqual({ n: 123456 });
    red.addValue(123456);
    expect(red.deep({ n: 123456 })).toEqual({ n: MASK });
  });

  it('never masks values shorter than 3 characters (they would hide the output, not the secret)', () => {
    const red = Redactor.fromVars([{ db_password: 'ab', api_token: 'abc' }]);
    expect(red.text('ab abc')).toBe(`ab ${MASK}`);
  });

  it('walks hostile keys and shapes without harm', () => {
    const vars = JSON.parse('{"__proto__": {"password": "proto-pw"}, "constructor": {"token": "ctor-tok"}}') as Record<
      string,
      unknown
    >;
    const red = Redactor.fromVars([vars]);
    expect(red.text('proto-pw ctor-tok')).toBe(`${MASK} ${MASK}`);
    const loop: Record<string, unknown> = { secret: 'loop-secret' };
    loop.self = loop;
    expect(Redactor.fromVars([{ a: loop }]).text('loop-secret')).toBe(MASK);
  });
});

describe('YAML !secret', () => {
  it('reads as the plain value and marks it secret on the keyring', () => {
    const vault = new VaultKeyring([]);
    const src = parseYamlText('plain_name: !secret tagged-value\nother: x\n', 'v.yaml', vault);
    expect(src.data).toEqual({ plain_name: 'tagged-value', other: 'x' });
    expect([...vault.revealed()]).toEqual(['tagged-value']);
  });
});
