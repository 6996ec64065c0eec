import { describe, expect, it } from 'vitest';
import { TRANSPARENCY_NEEDS_WEBM, validateProcessingOptions } from '../../src/pipeline/options.ts';

const errorsOf = (input: unknown) => {
  const r = validateProcessingOptions(input);
  if (!('fieldErrors' in r)) throw new Error('expected field errors');
  return r.fieldErrors;
};

describe('validateProcessingOptions', () => {
  it('fills in defaults when nothing is given', () => {
    expect(validateProcessingOptions({})).toEqual({ options: { model: 'ORIGINAL', outputFormat: 'MP4', background: null } });
  });

  it('fills in background defaults and normalises colours to lower-case #rrggbb', () => {
    const r = validateProcessingOptions({ outputFormat: 'WEBM', background: { color: '0F0', replaceWith: '#FFFFFF' } });
    expect(r).toEqual({
      options: {
        model: 'ORIGINAL',
        outputFormat: 'WEBM',
        background: { remove: true, color: '#00ff00', similarity: 0.3, replaceWith: '#ffffff' },
      },
    });
  });

  it('accepts a transparent background with WEBM', () => {
    expect(validateProcessingOptions({ model: 'PRO', outputFormat: 'WEBM', background: { remove: true } })).toHaveProperty('options');
  });

  it('rejects a transparent background with MP4 and names the fix on both fields', () => {
    const errors = errorsOf({ outputFormat: 'MP4', background: { remove: true, replaceWith: null } });
    expect(errors.map((e) => e.path.join('.')).sort()).toEqual(['background.replaceWith', 'outputFormat']);
    for (const e of errors) {
      expect(e.message).toBe(TRANSPARENCY_NEEDS_WEBM);
      expect(e.message).toMatch(/outputFormat WEBM/);
      expect(e.message).toMatch(/replaceWith to a colour such as #ffffff/);
    }
  });

  it('accepts MP4 with the background replaced by a colour', () => {
    expect(validateProcessingOptions({ outputFormat: 'MP4', background: { replaceWith: '#123abc' } })).toHaveProperty('options');
  });

  it('accepts MP4 with a background object whose removal is off', () => {
    expect(validateProcessingOptions({ outputFormat: 'MP4', background: { remove: false } })).toHaveProperty('options');
  });

  it('reports a bad colour, an out-of-range similarity and an unknown model each on its own field', () => {
    const errors = errorsOf({ model: 'TURBO', background: { color: 'green', similarity: 1.5, replaceWith: '#12345' } });
    const byPath = Object.fromEntries(errors.map((e) => [e.path.join('.'), e.message]));
    expect(byPath['model']).toMatch(/FAST, ORIGINAL or PRO/);
    expect(byPath['background.color']).toMatch(/hex colour/);
    expect(byPath['background.similarity']).toMatch(/between 0.01 and 1/);
    expect(byPath['background.replaceWith']).toMatch(/hex colour/);
  });

  it('rejects a similarity below 0.01', () => {
    expect(errorsOf({ background: { similarity: 0 } })[0]).toMatchObject({ path: ['background', 'similarity'] });
  });

  it('names unknown fields instead of silently ignoring a typo', () => {
    expect(errorsOf({ background: { similiarity: 0.5 } })[0]).toEqual({ path: ['background'], message: 'unknown field: similiarity' });
  });
});
