import { describe, expect, it } from 'vitest';
import { parseYamlText } from '../../src/yaml/source.js';
import { evalCondition } from '../../src/playbook/when.js';
import { modeArg } from '../../src/modules/args.js';

const data = (text: string): Record<string, unknown> => parseYamlText(text, 'x.yml').data as Record<string, unknown>;

describe('YAML is read as Ansible reads it (YAML 1.1, PyYAML resolvers)', () => {
  it('yes/no/on/off are booleans, y/n and quoted words stay text', () => {
    expect(data('a: yes\nb: no\nc: On\nd: OFF\ne: y\nf: n\ng: "no"\n')).toEqual({
      a: true,
      b: false,
      c: true,
      d: false,
      e: 'y',
      f: 'n',
      g: 'no',
    });
  });
  it('`feature: no` in play vars is false in `when: feature`', () => {
    expect(evalCondition('feature', data('feature: no\n'))).toBe(false);
    expect(evalCondition('not feature', data('feature: off\n'))).toBe(true);
  });
  it('numbers: 0644 is octal, 1:30 sexagesimal, 0999 and 1e3 stay text, dates stay text', () => {
    expect(data('m: 0644\nt: 1:30\nbad: 0999\ne: 1e3\nf: 1.5e+3\nd: 2001-12-14\nx: 0x1F\n')).toEqual({
      m: 420,
      t: 90,
      bad: '0999',
      e: '1e3',
      f: 1500,
      d: '2001-12-14',
      x: 31,
    });
  });
  it('file modes keep working: mode: 0644 is rw-r--r--, a quoted mode is kept', () => {
    expect(modeArg.parse(data('mode: 0644\n').mode)).toBe('0644');
    expect(modeArg.parse(data('mode: 0755\n').mode)).toBe('0755');
    expect(modeArg.parse(data('mode: "0640"\n').mode)).toBe('0640');
    expect(modeArg.parse(data("mode: '644'\n").mode)).toBe('0644');
  });
  it('a merge key whose source is not a mapping is a typed YAML error', () => {
    expect(() => parseYamlText('a:\n  <<: [0]\n', 'x.yml')).toThrow(/merge key/);
  });
});
