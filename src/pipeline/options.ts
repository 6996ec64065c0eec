// Processing options as the API accepts them, validated into field errors the GraphQL layer can
// show next to each field.
import { z } from 'zod';
import type { FieldError } from '../errors/app-errors';

export type ProcessingModel = 'FAST' | 'ORIGINAL' | 'PRO';
export type OutputFormat = 'MP4' | 'WEBM';

export interface BackgroundOptions {
  remove: boolean;
  /** The key colour, '#rrggbb' (lower case). */
  color: string;
  /** 0.01..1: how far from the key colour a pixel may be and still count as background. */
  similarity: number;
  /** Colour put behind the subject; null keeps the background transparent (WEBM only). */
  replaceWith: string | null;
}

export interface ProcessingOptions {
  model: ProcessingModel;
  outputFormat: OutputFormat;
  background: BackgroundOptions | null;
}

export const TRANSPARENCY_NEEDS_WEBM = 'MP4 cannot carry transparency: use outputFormat WEBM, or set background.replaceWith to a colour such as #ffffff';

/** Accepts #rgb / #rrggbb (the # optional, any case) and normalises to #rrggbb. */
const hexColor = z
  .string({ message: 'must be a hex colour such as #00ff00' })
  .trim()
  .regex(/^#?([0-9a-f]{3}|[0-9a-f]{6})$/i, { message: 'must be a hex colour such as #00ff00' })
  .transform((v) => {
    const h = v.replace('#', '').toLowerCase();
    return `#${h.length === 3 ? [...h].map((c) => c + c).join('') : h}`;
  });

const backgroundSchema = z.strictObject({
  // Sending a background object at all means "do something with the background".
  remove: z.boolean({ message: 'must be true or false' }).default(true),
  color: hexColor.default('#00ff00'),
  similarity: z
    .number({ message: 'must be a number' })
    .min(0.01, { message: 'must be between 0.01 and 1' })
    .max(1, { message: 'must be between 0.01 and 1' })
    .default(0.3),
  replaceWith: hexColor.nullable().default(null),
});

const optionsSchema = z
  .strictObject({
    model: z.enum(['FAST', 'ORIGINAL', 'PRO'], { message: 'must be FAST, ORIGINAL or PRO' }).default('ORIGINAL'),
    outputFormat: z.enum(['MP4', 'WEBM'], { message: 'must be MP4 or WEBM' }).default('MP4'),
    background: backgroundSchema.nullable().default(null),
  })
  .superRefine((o, ctx) => {
    if (o.background?.remove && o.background.replaceWith === null && o.outputFormat === 'MP4') {
      // Reported on both fields: changing either one fixes it.
      ctx.addIssue({ code: 'custom', path: ['background', 'replaceWith'], message: TRANSPARENCY_NEEDS_WEBM });
      ctx.addIssue({ code: 'custom', path: ['outputFormat'], message: TRANSPARENCY_NEEDS_WEBM });
    }
  });

export function validateProcessingOptions(input: unknown): { options: ProcessingOptions } | { fieldErrors: FieldError[] } {
  const parsed = optionsSchema.safeParse(input ?? {});
  if (parsed.success) return { options: parsed.data };
  return {
    fieldErrors: parsed.error.issues.map((i) => ({
      path: i.path.map(String),
      message: i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')}` : i.message,
    })),
  };
}

/** True when the output keeps an alpha channel instead of a background. */
export const wantsTransparency = (o: ProcessingOptions) => !!o.background?.remove && o.background.replaceWith === null;
