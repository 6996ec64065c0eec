import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
const ID_BYTES = 20;

// Random bytes are drawn from the CSPRNG a few KB at a time (as crypto.randomUUID does): one call per
// id cost a measurable share of a small request's CPU, since every request gets an id.
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

/** A prefixed random id such as vid_3f9k2m…: 20 base32 characters, 100 random bits. */
export function newId(prefix: 'usr' | 'key' | 'vid' | 'job' | 'evt' | 'whe' | 'alr' | 'req'): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  let out = '';
  for (let i = offset; i < offset + ID_BYTES; i++) out += ALPHABET[pool[i]! & 31];
  offset += ID_BYTES;
  return `${prefix}_${out}`;
}
