import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { TemplateEngine } from '../../src/template/render.js';

const eng = new TemplateEngine();
const fail = (text: string, vars: Record<string, unknown>): ConfigError => {
  try {
    eng.renderString(text, vars, { file: 'pb.yaml' });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`rendered: ${text}`);
};

describe('a helper argument that reads past an undefined value names the undefined part', () => {
  it('{{#if x.y}} with x undefined', () => {
    const e = fail('{{#if x.y}}a{{/if}}', {});
    expect(e.message).toBe("'x' is undefined, so 'x.y' cannot be read");
    expect(e.hint).toMatch(/define x, or test it first: \{\{#if x\}\}/);
    expect(e.message).not.toMatch(/Cannot read properties/);
  });

  it('deeper paths, and a null value', () => {
    expect(fail('{{#if a.b.c}}1{{/if}}', { a: {} }).message).toBe("'a.b' is undefined, so 'a.b.c' cannot be read");
    expect(fail('{{#each n.items}}{{this}}{{/each}}', { n: null }).message).toBe(
      "'n' is null, so 'n.items' cannot be read",
    );
  });

  it('prototype names are never read: the path stops at them', () => {
    for (const name of ['constructor', '__proto__', 'toString']) {
      const e = fail(`{{#if v.${name}.x}}1{{/if}}`, { v: { a: 1 } });
      expect(e.message).toBe(`'v.${name}' is undefined, so 'v.${name}.x' cannot be read`);
    }
  });

  it('a defined path still renders', () => {
    expect(eng.renderString('{{#if x.y}}yes{{/if}}', { x: { y: 1 } }, { file: 'pb.yaml' })).toBe('yes');
  });
});

describe('eq and ne compare as when does (Jinja): by value and content', () => {
  const r = (t: string, v: Record<string, unknown>) => eng.renderString(t, v, { file: 'pb.yaml' });
  it.each([
    ['lists by item', { a: [1, 'x'], b: [1, 'x'] }, 'same'],
    ['mappings in any key order', { a: { k: 1, j: [2] }, b: { j: [2], k: 1 } }, 'same'],
    ['true and 1', { a: true, b: 1 }, 'same'],
    ['a string and a number', { a: '5', b: 5 }, 'differ'],
    ['lists of another length', { a: [1], b: [1, 1] }, 'differ'],
    ['a mapping and a list', { a: {}, b: [] }, 'differ'],
  ])('%s', (_n, v, want) => {
    expect(r('{{#if (eq a b)}}same{{else}}differ{{/if}}', v)).toBe(want);
    expect(r('{{#if (ne a b)}}differ{{else}}same{{/if}}', v)).toBe(want);
  });
  it('an inherited name is not a key', () => {
    expect(r('{{#if (eq a b)}}same{{else}}differ{{/if}}', { a: { toString: 1 }, b: {} })).toBe('differ');
  });
});
