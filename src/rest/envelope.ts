// Seed 003's envelope: {"success": true, "data": …} or {"success": false, "message", "error": {"detail",
// "code"}}, with the error catalog's HTTP status, and snake_case names as the seeds write them.
import type { ServerResponse } from 'node:http';
import { ERROR_CATALOG, type ErrorCode } from '../errors/catalog';
import { sendJson } from '../server/http-json';

/** Any JSON answer of the REST paths (the envelope, or the OpenAPI document). */
export const sendEnvelope = sendJson;

export function sendData(res: ServerResponse, status: number, data: unknown) {
  sendEnvelope(res, status, { success: true, data: snakeCase(data) });
}

export interface ErrorMember {
  code: string;
  message: string;
  detail: string;
  fieldErrors?: Array<{ path: string[]; message: string }>;
}

export function sendError(res: ServerResponse, error: ErrorMember, extraHeaders: Record<string, string> = {}) {
  const entry = ERROR_CATALOG[error.code as ErrorCode];
  const body: Record<string, unknown> = { success: false, message: error.message, error: { detail: error.detail, code: error.code } };
  if (error.fieldErrors?.length) (body.error as Record<string, unknown>).field_errors = error.fieldErrors;
  for (const [name, value] of Object.entries(extraHeaders)) res.setHeader(name, value);
  sendEnvelope(res, entry?.httpStatus ?? 500, body);
}

/** camelCase keys → snake_case, recursively (values untouched; stage results keep their own keys). */
export function snakeCase(value: unknown, keepKeysBelow: ReadonlySet<string> = new Set(['results', 'stage_options'])): unknown {
  if (Array.isArray(value)) return value.map((v) => snakeCase(v, keepKeysBelow));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      return [snake, keepKeysBelow.has(snake) ? v : snakeCase(v, keepKeysBelow)];
    }),
  );
}
