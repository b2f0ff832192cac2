// decode.js - read UR strings (one per line) on stdin, decode them with @ngraveio/bc-ur and write
// the payload (the CBOR byte string's content) to stdout. Exit 1 when the message is incomplete.
'use strict';
const fs = require('fs');
const { URDecoder } = require('@ngraveio/bc-ur');

const lines = fs.readFileSync(0, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
const decoder = new URDecoder();
let used = 0;
for (const line of lines) {
  decoder.receivePart(line);
  used += 1;
  if (decoder.isComplete()) break;
}
if (!decoder.isComplete() || !decoder.isSuccess()) {
  process.stderr.write(`bc-ur: message incomplete after ${used} parts: ${decoder.resultError()}\n`);
  process.exit(1);
}
const ur = decoder.resultUR();
process.stderr.write(`bc-ur: decoded ur:${ur.type} from ${used} of ${lines.length} parts\n`);
process.stdout.write(ur.decodeCBOR());
