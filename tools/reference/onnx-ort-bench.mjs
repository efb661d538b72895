// Times ONNX Runtime (one thread) on a model: node onnx-ort-bench.mjs MODEL.onnx INPUT.npy RUNS
// Prints one JSON line {"median_ms", "min_ms", "max_ms"} after a warm-up run.
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';

const require = createRequire(path.resolve('tests/reference/package.json'));
const ort = require('onnxruntime-node');
const [model, input, runsArg] = process.argv.slice(2);
const buf = fs.readFileSync(input);
const headerLen = buf.readUInt16LE(8);
const header = buf.toString('latin1', 10, 10 + headerLen);
const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + headerLen, buf.byteOffset + buf.length));
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
});
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
await session.run(feeds);
const times = [];
for (let i = 0; i < Number(runsArg || 10); i++) {
  const t0 = process.hrtime.bigint();
  await session.run(feeds);
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], max_ms: times[times.length - 1] }));
