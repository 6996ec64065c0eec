import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
const ALPHABET_CODES = [...ALPHABET].map((c) => c.charCodeAt(0));
const ID_BYTES = 20;
const UNDERSCORE = '_'.charCodeAt(0);

// Random bytes are drawn from the CSPRNG a few KB at a time (as crypto.randomUUID does): one call per
// id cost a measurable share of a small request's CPU, since every request gets an id.
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

/** A prefixed random id such as vid_3f9k2m…: 20 base32 characters, 100 random bits. */
export function newId(prefix: 'usr' | 'key' | 'vid' | 'job' | 'evt' | 'whe' | 'alr' | 'req' | 'upl'): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  // Built from char codes in one go, as one flat string: appending piece by piece makes a rope of
  // string pieces (~600 bytes for one id), kept as long as the id is (every subscription keeps one).
  const codes: number[] = [];
  for (let i = 0; i < prefix.length; i++) codes.push(prefix.charCodeAt(i));
  codes.push(UNDERSCORE);
  for (let i = 0; i < ID_BYTES; i++) codes.push(ALPHABET_CODES[pool[offset + i]! & 31]!);
  offset += ID_BYTES;
  return String.fromCharCode(...codes);
}
