// Reading a child's output line by line, and keeping a bounded tail of it.
import type { Readable } from 'node:stream';

export function lineReader(stream: Readable, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split(/\r?\n/);
    partial = parts.pop() ?? '';
    // A line without an end in sight (a binary dump) is cut, not buffered without bound.
    if (partial.length > 64 * 1024) partial = partial.slice(-64 * 1024);
    parts.forEach(onLine);
  });
  stream.on('end', () => partial && onLine(partial));
}

/** The last `lines` lines, at most `chars` characters in all. */
export function tailBuffer(lines: number, chars: number) {
  const kept: string[] = [];
  return {
    push(line: string) {
      if (!line.trim()) return;
      kept.push(line);
      while (kept.length > lines || kept.join('\n').length > chars) kept.shift();
    },
    text: () => kept.join('\n').slice(-chars),
  };
}
