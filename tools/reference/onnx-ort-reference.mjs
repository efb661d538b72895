// Computes ONNX Runtime's outputs (the independent reference) for ONNX models and their inputs.
//   node tools/reference/onnx-ort-reference.mjs DIR      for every DIR/NAME.onnx with
//   DIR/NAME.input.npy, writes DIR/NAME.ort.<output name>.npy (float32, C order).
//   node tools/reference/onnx-ort-reference.mjs MODEL.onnx INPUT.npy OUTDIR
//   writes OUTDIR/<i>.npy for the i-th output and prints the output names as a JSON list
//   (INPUT.npy may be a comma-separated list, one file per graph input).
// Runs with tests/reference/node_modules (onnxruntime-node 1.30, one thread).
// OSH_ORT_OPTIMIZATION=disabled runs the graph as written: ORT's optimizer turns QDQ pairs
// around a Conv into integer kernels, a different computation from the one the file states.
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';

const require = createRequire(path.resolve('tests/reference/package.json'));
const ort = require('onnxruntime-node');

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  if (!header.includes("'<f4'")) throw new Error(`${file}: expected float32`);
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + headerLen, buf.byteOffset + buf.length));
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(head, 0);
  head[6] = 1; head[7] = 0; head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(Float32Array.from(data).buffer)]));
}

async function runOne(model, input) {
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  if (process.env.OSH_ORT_OPTIMIZATION) options.graphOptimizationLevel = process.env.OSH_ORT_OPTIMIZATION;
  const session = await ort.InferenceSession.create(model, options);
  // INPUT may list several .npy files, comma-separated, one per graph input in its order.
  const feeds = {};
  input.split(',').forEach((file, i) => {
    const x = readNpy(file);
    feeds[session.inputNames[i]] = new ort.Tensor('float32', x.data, x.shape);
  });
  const out = await session.run(feeds);
  return session.outputNames.map((o) => ({ name: o, dims: out[o].dims, data: out[o].data }));
}

if (process.argv.length === 5) {
  const [model, input, outDir] = process.argv.slice(2);
  const outs = await runOne(model, input);
  fs.mkdirSync(outDir, { recursive: true });
  outs.forEach((o, i) => writeNpy(path.join(outDir, `${i}.npy`), o.dims, o.data));
  console.log(JSON.stringify(outs.map((o) => o.name)));
  process.exit(0);
}

const dir = process.argv[2];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort()) {
  const name = f.slice(0, -5);
  const inputFile = path.join(dir, `${name}.input.npy`);
  if (!fs.existsSync(inputFile)) continue;
  for (const o of await runOne(path.join(dir, f), inputFile)) {
    writeNpy(path.join(dir, `${name}.ort.${o.name}.npy`), o.dims, o.data);
    console.log(`${name}: ${o.name} ${JSON.stringify(o.dims)}`);
  }
}
