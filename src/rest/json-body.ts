// A REST request's JSON body, read with a size cap.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CATALOG } from '../errors/catalog';
import { sendEnvelope } from './envelope';

/** The parsed body (null when it is not JSON), or undefined once a too-large body was answered with 413. */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.setHeader('connection', 'close');
      sendEnvelope(res, 413, {
        success: false,
        message: ERROR_CATALOG.INVALID_INPUT.message,
        error: { detail: `The JSON body is larger than ${maxBytes} bytes.`, code: 'INVALID_INPUT' },
      });
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}
