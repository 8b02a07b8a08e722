import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeMessage, DELIMITER, encodeMessage, sign, WireError } from '../../src/notebook/runner/wire';

const KEY = 'secret-key';

describe('Jupyter wire protocol framing', () => {
  it('signs the four JSON frames with hex HMAC-SHA256 of their concatenation', () => {
    const parts = ['{"a":1}', '{}', '{}', '{"code":"1"}'];
    const expected = createHmac('sha256', KEY).update(parts.join('')).digest('hex');
    expect(sign(KEY, parts)).toBe(expected);
    expect(sign('', parts)).toBe(''); // empty key = unsigned, per the spec
  });

  it('encodes a request that decodes back to the same header and content', () => {
    const { frames, header } = encodeMessage(KEY, 'session-1', 'execute_request', { code: 'x' });
    expect(frames[0]).toBe(DELIMITER);
    expect(header.msg_type).toBe('execute_request');
    expect(header.session).toBe('session-1');
    expect(header.version).toBe('5.3');
    // A Router peer prepends a routing identity; decoding must keep it apart.
    const msg = decodeMessage(KEY, [Buffer.from('peer-id'), ...frames.map((f) => Buffer.from(f))]);
    expect(msg.identities.map(String)).toEqual(['peer-id']);
    expect(msg.header).toEqual(header);
    expect(msg.parentHeader).toEqual({});
    expect(msg.content).toEqual({ code: 'x' });
    expect(msg.buffers).toEqual([]);
  });

  it('rejects a forged or tampered message, a missing delimiter and short frames', () => {
    const { frames } = encodeMessage(KEY, 's', 'status', { execution_state: 'idle' });
    const tampered = frames.map((f) => Buffer.from(f));
    tampered[5] = Buffer.from('{"execution_state":"busy"}');
    expect(() => decodeMessage(KEY, tampered)).toThrow(WireError);
    expect(() => decodeMessage('other-key', frames.map((f) => Buffer.from(f)))).toThrow(/signature/);
    expect(() => decodeMessage(KEY, frames.slice(1).map((f) => Buffer.from(f)))).toThrow(/delimiter/);
    expect(() => decodeMessage(KEY, frames.slice(0, 4).map((f) => Buffer.from(f)))).toThrow(/frames/);
  });
});
