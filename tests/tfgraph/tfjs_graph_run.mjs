// Runs a TF.js graph model with tfjs's own loader and executor (tf.loadGraphModel, CPU backend)
// on .npy inputs and writes every requested output as .npy: the reference Offshoot's
// TF graph dialect is checked against.
//   node tfjs_graph_run.mjs MODEL.json OUT_DIR IN.npy[,IN2.npy] [OUTPUT_NODE ...]
// Without output names, the model's own outputs. Each output is written as OUT_DIR/<i>.npy, in
// the order asked, and a line of JSON lists the names and shapes.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { modelFilesHandler, readNpy, writeNpy } from '../../tools/reference/tfjs-common.mjs';

const require = createRequire(path.join(process.env.OSH_SOURCE_ROOT || '.', 'tests/reference/'));
const tf = require('@tensorflow/tfjs');

const [modelPath, outDir, inputs, ...names] = process.argv.slice(2);
const model = await tf.loadGraphModel(modelFilesHandler(modelPath));
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
