// What a file is: by its name (extension) and by its own first bytes (container signature).
// Pure functions, no I/O: the upload handler feeds them the client's filename and the file's head.
/** The containers vidq accepts, judged by extension and by the file's own bytes. */
export const SUPPORTED_FORMATS = ['mp4', 'mov', 'avi', 'mkv', 'webm'] as const;

export type VideoFormat = (typeof SUPPORTED_FORMATS)[number];

export const CONTENT_TYPES: Record<VideoFormat, string> = {
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
};

/** How many leading bytes the sniffer wants (it decides with fewer when the file is shorter). */
export const HEAD_BYTES = 4096;

const MAX_FILENAME_CHARS = 200;

export function isSupportedFormat(ext: string | null): ext is VideoFormat {
  return ext !== null && (SUPPORTED_FORMATS as readonly string[]).includes(ext);
}

export const SUPPORTED_LIST = SUPPORTED_FORMATS.join(', ');

/**
 * The client's filename made harmless for display: no directories, no control characters (also not
 * percent-encoded ones such as "%00"), no bidi overrides, no leading dots, at most 200 characters
 * with the extension kept. It is metadata only: files are stored under generated names.
 */
export function sanitizeFilename(raw: string | null | undefined): string {
  let name = String(raw ?? '').normalize('NFC');
  name = name.replace(/%(?:[01][0-9a-f]|7f)/gi, ''); // "a.php%00.mp4" → "a.php.mp4"
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  name = name.split(/[\\/]/).pop() ?? '';
  name = name
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim();
  name = name.replace(/^[.\s]+/, ''); // "..", ".htaccess"
  if (!name) return 'upload';
  const chars = Array.from(name);
  if (chars.length <= MAX_FILENAME_CHARS) return name;
  const ext = extensionOf(name);
  const suffix = ext ? `.${ext}` : '';
  return (
    chars
      .slice(0, MAX_FILENAME_CHARS - suffix.length)
      .join('')
      .trimEnd() + suffix
  );
}

/** The lower-cased extension without the dot ("MP4" → "mp4"), or null when the name has none. */
export function extensionOf(filename: string): string | null {
  const dot = filename.lastIndexOf('.');
  if (dot < 0 || dot === filename.length - 1) return null;
  const ext = filename.slice(dot + 1).toLowerCase();
  return /^[a-z0-9]{1,16}$/.test(ext) ? ext : null;
}

export type Sniffed = { kind: 'video'; format: VideoFormat } | { kind: 'other'; description: string };

const ascii = (b: Buffer, from: number, to: number) => (b.length >= to ? b.toString('latin1', from, to) : '');
const startsWith = (b: Buffer, bytes: number[]) => b.length >= bytes.length && bytes.every((x, i) => b[i] === x);

/** ISO base media (MP4/MOV) box types that can open a file. */
const BMFF_FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Valid UTF-8 without control characters (the head may end inside a multi-byte character). */
function looksLikeText(head: Buffer): boolean {
  for (let cut = 0; cut <= 3 && cut < head.length; cut++) {
    try {
      const text = utf8.decode(head.subarray(0, head.length - cut));
      return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text);
    } catch {
      // try again without a possibly cut last character
    }
  }
  return false;
}

/** What the first bytes of a file say it is. */
export function sniffContainer(head: Buffer): Sniffed {
  if (head.length === 0) return { kind: 'other', description: 'an empty file (0 bytes)' };
  const box = ascii(head, 4, 8);
  if (BMFF_FIRST_BOXES.has(box)) {
    const brand = box === 'ftyp' ? ascii(head, 8, 12) : '';
    return { kind: 'video', format: brand === 'qt  ' ? 'mov' : 'mp4' };
  }
  if (ascii(head, 0, 4) === 'RIFF') {
    const type = ascii(head, 8, 12);
    if (type === 'AVI ' || type === 'AVIX') return { kind: 'video', format: 'avi' };
    if (type === 'WAVE') return { kind: 'other', description: 'a WAV audio file' };
    return { kind: 'other', description: `a RIFF file of type "${type.trim() || '?'}"` };
  }
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) {
    // The EBML header names its DocType within the first few dozen bytes.
    const docType = head.subarray(0, 64).toString('latin1');
    return { kind: 'video', format: docType.includes('webm') ? 'webm' : 'mkv' };
  }
  return { kind: 'other', description: describeOther(head) };
}

function describeOther(head: Buffer): string {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'a PNG image';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'a JPEG image';
  const a4 = ascii(head, 0, 4);
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return 'a GIF image';
  if (ascii(head, 0, 3) === 'FLV') return 'an FLV video';
  if (head[0] === 0x47 && (head.length < 189 || head[188] === 0x47)) return 'an MPEG transport stream';
  if (startsWith(head, [0x00, 0x00, 0x01, 0xba])) return 'an MPEG program stream';
  if (a4 === 'OggS') return 'an Ogg file';
  if (ascii(head, 0, 3) === 'ID3') return 'an MP3 audio file';
  if (a4 === '%PDF') return 'a PDF document';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'a ZIP archive';
  if (startsWith(head, [0x1f, 0x8b])) return 'a gzip archive';
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46])) return 'an ELF executable';
  if (ascii(head, 0, 2) === 'MZ') return 'a Windows executable';
  if (looksLikeText(head)) {
    const start = head.toString('utf8').trimStart();
    if (/^<(!doctype html|html)/i.test(start)) return 'HTML text';
    if (start.startsWith('<')) return 'XML or HTML text';
    if (start.startsWith('{') || start.startsWith('[')) return 'JSON text';
    return 'plain text';
  }
  return `unrecognised binary data (first bytes: ${head
    .subarray(0, 8)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ')})`;
}

const FAMILY: Record<VideoFormat, string> = {
  mp4: 'MP4/MOV (ISO base media)',
  mov: 'MP4/MOV (ISO base media)',
  avi: 'AVI (RIFF)',
  mkv: 'Matroska/WebM (EBML)',
  webm: 'Matroska/WebM (EBML)',
};

/** The UNSUPPORTED_FORMAT detail for a supported extension whose bytes are something else. */
export function contentMismatchDetail(ext: VideoFormat, description: string): string {
  return `Received file with extension .${ext}, but its content is ${description}, not an ${FAMILY[ext]} container. Supported formats: ${SUPPORTED_LIST}.`;
}

/** The UNSUPPORTED_FORMAT detail for a file without an extension whose bytes are not a supported container. */
export function unnamedContentDetail(description: string): string {
  return `Received file without an extension whose content is ${description}, not a video container. Supported formats: ${SUPPORTED_LIST}.`;
}

/** The UNSUPPORTED_FORMAT detail for an extension that is not accepted. */
export function extensionDetail(ext: string | null): string {
  return ext
    ? `Received file with extension .${ext}. Supported formats: ${SUPPORTED_LIST}.`
    : `Received file without an extension. Supported formats: ${SUPPORTED_LIST}.`;
}
