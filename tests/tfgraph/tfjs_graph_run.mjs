// Runs a TF.js graph model with tfjs's own loader and executor (tf.loadGraphModel, CPU backend)
// on .npy inputs and writes every requested output as .npy: the reference Offshoot's
// TF graph dialect is checked against.
//   node tfjs_graph_run.mjs MODEL.json OUT_DIR IN.npy[,IN2.npy] [OUTPUT_NODE ...]
// Without output names, the model's own outputs. Each output is written as OUT_DIR/<i>.npy, in
// the order asked, and a line of JSON lists the names and shapes.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.env.OSH_SOURCE_ROOT || '.', 'tests/reference/'));
const tf = require('@tensorflow/tfjs');

function handler(modelPath) {
  return {
    async load() {
      const doc = JSON.parse(fs.readFileSync(modelPath, 'utf8'));
      const dir = path.dirname(modelPath);
      const specs = [], buffers = [];
      for (const group of doc.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: doc.modelTopology, format: doc.format, generatedBy: doc.generatedBy,
        convertedBy: doc.convertedBy, signature: doc.signature, userDefinedMetadata: doc.userDefinedMetadata,
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

// .npy version 1 of little-endian float32 (the tests write them with numpy).
function readNpy(file) {
  const b = fs.readFileSync(file);
  const headerLen = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + headerLen);
  if (!header.includes("'<f4'")) throw new Error(`${file}: not float32`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + headerLen, b.byteOffset + b.length));
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64) header += ' ';
  header += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(new Float32Array(data).buffer)]));
}

const [modelPath, outDir, inputs, ...names] = process.argv.slice(2);
const model = await tf.loadGraphModel(handler(modelPath));
const xs = inputs.split(',').map((f, i) => {
  const { shape, data } = readNpy(f);
  const dtype = model.inputs[i] && model.inputs[i].dtype === 'int32' ? 'int32' : 'float32';
  return dtype === 'int32' ? tf.tensor(Int32Array.from(data, Math.round), shape, 'int32') : tf.tensor(data, shape);
});
const feed = {};
model.inputs.forEach((inp, i) => { feed[inp.name] = xs[i]; });
const asked = names.length ? names : model.outputs.map((o) => o.name);
let ys = await model.executeAsync(feed, asked);
if (!Array.isArray(ys)) ys = [ys];
fs.mkdirSync(outDir, { recursive: true });
const report = [];
ys.forEach((y, i) => {
  writeNpy(path.join(outDir, `${i}.npy`), y.shape, Float32Array.from(y.dataSync()));
  report.push({ name: asked[i], shape: y.shape });
});
process.stdout.write(JSON.stringify(report) + '\n');
