import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/** A prefixed random id such as vid_3f9k2m…: 20 base32 characters, 100 random bits. */
export function newId(prefix: 'usr' | 'key' | 'vid' | 'job' | 'evt' | 'whe' | 'alr' | 'req'): string {
  const bytes = randomBytes(20);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return `${prefix}_${out}`;
}
