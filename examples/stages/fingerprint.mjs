#!/usr/bin/env node
// An external vidq stage in Node: SHA-256 of the whole source and of each block, with progress.
// It reads what vidq passes in the environment (VIDQ_INPUT, VIDQ_OUTPUT_DIR, VIDQ_OPTIONS_FILE).
// Protocol: {"progress": x} lines on stdout; result.json is the output; other files become output files.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const input = process.env.VIDQ_INPUT;
const outputDir = process.env.VIDQ_OUTPUT_DIR;
const { blockMb = 8 } = JSON.parse(readFileSync(process.env.VIDQ_OPTIONS_FILE, 'utf8'));
if (!Number.isInteger(blockMb) || blockMb < 1) {
  console.error(`blockMb must be a positive whole number, got ${blockMb}`);
  process.exit(64); // bad options: permanent INVALID_INPUT
}

const size = statSync(input).size;
const blockBytes = blockMb * 1024 * 1024;
const whole = createHash('sha256');
const blocks = [];
let block = createHash('sha256');
let inBlock = 0;
let read = 0;
let reported = 0;
for await (const chunk of createReadStream(input, { highWaterMark: 1024 * 1024 })) {
  whole.update(chunk);
  for (let offset = 0; offset < chunk.length;) {
    const take = Math.min(chunk.length - offset, blockBytes - inBlock);
    block.update(chunk.subarray(offset, offset + take));
    offset += take;
    inBlock += take;
    if (inBlock === blockBytes) {
      blocks.push(block.digest('hex'));
      block = createHash('sha256');
      inBlock = 0;
    }
  }
  read += chunk.length;
  if (read / size - reported >= 0.1) {
    reported = read / size;
    console.log(JSON.stringify({ progress: reported }));
  }
}
if (inBlock > 0) blocks.push(block.digest('hex'));

const sha256 = whole.digest('hex');
writeFileSync(path.join(outputDir, 'blocks.txt'), blocks.join('\n') + '\n');
writeFileSync(path.join(outputDir, 'result.json'), JSON.stringify({ sha256, sizeBytes: size, blockMb, blocks: blocks.length }));
console.log(`fingerprinted ${size} bytes in ${blocks.length} blocks`); // a plain line: goes to vidq's log
