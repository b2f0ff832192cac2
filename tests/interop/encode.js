// encode.js FILE TYPE MAX_FRAGMENT COUNT [SKIP] - encode FILE's bytes as a UR of TYPE with
// @ngraveio/bc-ur and print parts SKIP+1 .. SKIP+COUNT, one per line (upper case when UPPER=1).
'use strict';
const fs = require('fs');
const { UR, UREncoder } = require('@ngraveio/bc-ur');

const [file, type, maxFragment, count, skip] = process.argv.slice(2);
if (!file || !type || !maxFragment || !count) {
  process.stderr.write('usage: node encode.js FILE TYPE MAX_FRAGMENT COUNT [SKIP]\n');
  process.exit(2);
}
const ur = new UR(UR.fromBuffer(fs.readFileSync(file)).cbor, type);
const encoder = new UREncoder(ur, Number(maxFragment), 0, 10);
for (let i = 0; i < Number(skip || 0); i += 1) encoder.nextPart();
for (let i = 0; i < Number(count); i += 1) {
  const part = encoder.nextPart();
  process.stdout.write(`${process.env.UPPER === '1' ? part.toUpperCase() : part}\n`);
}
