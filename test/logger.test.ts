import { describe, expect, it } from 'vitest';
import { serializeError } from '../src/logger';

describe('error serialization in logs', () => {
  it('keeps message, code, stack and cause but drops the driver client a pg error carries', () => {
    const cause = new Error('socket closed');
    const error = Object.assign(new Error('terminating connection due to administrator command', { cause }), {
      code: '57P01',
      client: { connectionParameters: { user: 'vidq', password: 'secret' }, _types: { builtins: { BOOL: 16 } } },
    });
    const out = serializeError(error) as Record<string, unknown>;
    expect(out.message).toMatch(/^terminating connection due to administrator command/);
    expect(out.code).toBe('57P01');
    expect(out.stack).toMatch(/terminating connection/);
    expect(JSON.stringify(out)).toContain('socket closed');
    expect(out).not.toHaveProperty('client');
    expect(JSON.stringify(out)).not.toContain('secret');
    // The error itself is left as it was: other code may still need its client.
    expect(error.client.connectionParameters.user).toBe('vidq');
  });

  it('passes non-errors through unchanged', () => {
    expect(serializeError('a string')).toBe('a string');
    expect(serializeError({ code: 'X' })).toEqual({ code: 'X' });
  });
});
