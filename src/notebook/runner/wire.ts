/**
 * The Jupyter wire protocol's message framing (messaging spec 5.3): the frames
 * `[identities..., "<IDS|MSG>", hmac, header, parent_header, metadata, content, buffers...]`
 * with hmac = hex HMAC-SHA256 over the four JSON frames, keyed by the
 * connection file's `key`. Pure functions: no sockets here.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/** The delimiter frame between routing identities and the signed message. */
export const DELIMITER = '<IDS|MSG>';

/** The protocol version this client speaks (tslab answers 5.3). */
const PROTOCOL_VERSION = '5.3';

/** A Jupyter message header. */
export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

/** One decoded Jupyter message. */
export interface JupyterMessage<C = Record<string, unknown>> {
  identities: Buffer[];
  header: MessageHeader;
  /** The header of the request this message answers; `{}` when none. */
  parentHeader: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/**
 * Hex HMAC-SHA256 of the header, parent header, metadata and content frames.
 * An empty key disables signing (the spec's "no authentication"), giving `''`.
 * @example sign('k', ['{}', '{}', '{}', '{}']).length // 64
 */
export function sign(key: string, parts: ReadonlyArray<string | Buffer>): string {
  if (key === '') return '';
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest('hex');
}

/**
 * A fresh header for a request of `msgType` in `session`.
 * @example newHeader('execute_request', 's1').version // '5.3'
 */
function newHeader(msgType: string, session: string): MessageHeader {
  return {
    msg_id: randomUUID(),
    msg_type: msgType,
    session,
    username: 'quantbook',
    date: new Date().toISOString(),
    version: PROTOCOL_VERSION,
  };
}

/**
 * Frames a request for sending on a Dealer socket (no routing identities).
 * @returns the frames and the header (its `msg_id` correlates the replies).
 * @example encodeMessage('key', 's1', 'kernel_info_request', {}).frames[0] // '<IDS|MSG>'
 */
export function encodeMessage(
  key: string,
  session: string,
  msgType: string,
  content: Record<string, unknown>,
  metadata: Record<string, unknown> = {},
): { frames: string[]; header: MessageHeader } {
  const header = newHeader(msgType, session);
  const parts = [JSON.stringify(header), '{}', JSON.stringify(metadata), JSON.stringify(content)];
  return { frames: [DELIMITER, sign(key, parts), ...parts], header };
}

/** Why a received multipart message was rejected. */
export class WireError extends Error {}

/**
 * Splits and verifies received frames. The signature is checked in constant
 * time; a bad or missing signature throws, so a forged message is never acted on.
 * @throws WireError when the delimiter is missing, a frame is not JSON or the hmac does not match.
 * @example decodeMessage('key', frames.map((f) => Buffer.from(f))).content // the request's content
 */
export function decodeMessage(key: string, frames: ReadonlyArray<Buffer>): JupyterMessage {
  const delim = frames.findIndex((f) => f.length === DELIMITER.length && f.toString('latin1') === DELIMITER);
  if (delim < 0) throw new WireError('message without the <IDS|MSG> delimiter');
  if (frames.length < delim + 6) throw new WireError(`message has ${frames.length - delim - 1} frames after the delimiter, expected at least 5`);
  const signature = frames[delim + 1].toString('latin1');
  const parts = frames.slice(delim + 2, delim + 6);
  const expected = sign(key, parts);
  const given = Buffer.from(signature, 'latin1');
  const want = Buffer.from(expected, 'latin1');
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new WireError('message signature does not match the connection key');
  }
  const json = (b: Buffer, what: string): Record<string, unknown> => {
    try {
      return JSON.parse(b.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new WireError(`message ${what} is not JSON`);
    }
  };
  return {
    identities: frames.slice(0, delim) as Buffer[],
    header: json(parts[0], 'header') as unknown as MessageHeader,
    parentHeader: json(parts[1], 'parent_header') as Partial<MessageHeader>,
    metadata: json(parts[2], 'metadata'),
    content: json(parts[3], 'content'),
    buffers: frames.slice(delim + 6) as Buffer[],
  };
}
