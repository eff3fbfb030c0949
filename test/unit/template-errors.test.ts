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
