// Times ONNX Runtime (one thread) on a model: node onnx-ort-bench.mjs MODEL.onnx INPUT.npy RUNS
// Prints one JSON line {"median_ms", "min_ms", "max_ms", "cpu_median_ms"} after a warm-up run;
// cpu_median_ms is the CPU time the process spent per run (all threads), what a run costs on a
// busy machine.
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
const times = [], cpu = [];
for (let i = 0; i < Number(runsArg || 10); i++) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  await session.run(feeds);
  const c1 = process.cpuUsage(c0);
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  cpu.push((c1.user + c1.system) / 1e3);
}
const median = (v) => {
  v.sort((a, b) => a - b);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};
const wall = median(times);
console.log(JSON.stringify({ median_ms: wall, min_ms: times[0], max_ms: times[times.length - 1], cpu_median_ms: median(cpu) }));
