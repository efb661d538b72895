// check-tfjs.mjs — an independent Keras reader for the default model: tfjs rebuilds it from
// the Keras 3 archive (config.json + model.weights.h5, read with h5wasm), runs the bundled
// samples and must agree with PyTorch's probabilities. Writes tests/zoo/default-predictions.json
// (tfjs's numbers), the reference for Offshoot's own `run @default`.
//
//   node tools/train-default-model/check-tfjs.mjs          (after train.py; not run by tests)

import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const source = path.resolve (path.dirname (fileURLToPath (import.meta.url)), '../..');
const reference = path.join (source, 'tests/reference');
const rootAt = process.argv.indexOf ('--root');  /* another tree laid out like the source */
const root = rootAt > 0 ? path.resolve (process.argv[rootAt + 1]) : source;
const require = createRequire (path.join (reference, 'package.json'));
const tf = require ('@tensorflow/tfjs');
const h5wasm = (await import (pathToFileURL (
  path.join (reference, 'node_modules/h5wasm/dist/node/hdf5_hl.js')).href)).default;

// The members of a zip whose entries are stored uncompressed (as Keras writes them).
function unzipStored (bytes) {
  const members = {};
  let pos = 0;
  while (bytes.readUInt32LE (pos) === 0x04034b50) {
    const method = bytes.readUInt16LE (pos + 8);
    const size = bytes.readUInt32LE (pos + 18);
    const nameLength = bytes.readUInt16LE (pos + 26), extra = bytes.readUInt16LE (pos + 28);
    const name = bytes.toString ('utf8', pos + 30, pos + 30 + nameLength);
    const start = pos + 30 + nameLength + extra;
    if (method !== 0)
      throw new Error (`${name}: compressed zip member (method ${method})`);
    members[name] = bytes.subarray (start, start + size);
    pos = start + size;
  }
  return members;
}

// 8-bit PNG (filter 0 rows, as train.py writes them) to a Float32Array of H×W×C values.
function readPng (file) {
  const data = fs.readFileSync (file);
  let pos = 8, width = 0, height = 0, channels = 0;
  const idat = [];
  while (pos < data.length) {
    const length = data.readUInt32BE (pos), kind = data.toString ('ascii', pos + 4, pos + 8);
    const body = data.subarray (pos + 8, pos + 8 + length);
    if (kind === 'IHDR') {
      width = body.readUInt32BE (0);
      height = body.readUInt32BE (4);
      channels = body[9] === 2 ? 3 : 1;
    } else if (kind === 'IDAT')
      idat.push (body);
    pos += 12 + length;
  }
  const raw = zlib.inflateSync (Buffer.concat (idat));
  const out = new Float32Array (width * height * channels);
  const stride = width * channels;
  for (let y = 0; y < height; y++) {
    if (raw[y * (stride + 1)] !== 0)
      throw new Error (`${file}: row ${y} uses a PNG filter this reader does not undo`);
    for (let i = 0; i < stride; i++)
      out[y * stride + i] = raw[y * (stride + 1) + 1 + i];
  }
  return { pixels: out, shape: [height, width, channels] };
}

function tfjsLayer (entry) {
  const c = entry.config, L = tf.layers, name = c.name;
  switch (entry.class_name) {
  case 'Rescaling': return L.rescaling ({ name, scale: c.scale, offset: c.offset });
  case 'Conv2D':
    return L.conv2d ({ name, filters: c.filters, kernelSize: c.kernel_size, strides: c.strides,
                       padding: c.padding, activation: c.activation, useBias: c.use_bias });
  case 'DepthwiseConv2D':
    return L.depthwiseConv2d ({ name, kernelSize: c.kernel_size, strides: c.strides,
                                padding: c.padding, useBias: c.use_bias,
                                depthMultiplier: c.depth_multiplier });
  case 'BatchNormalization':
    return L.batchNormalization ({ name, axis: c.axis, epsilon: c.epsilon,
                                   momentum: c.momentum });
  case 'Activation': return L.activation ({ name, activation: c.activation });
  case 'GlobalAveragePooling2D': return L.globalAveragePooling2d ({ name });
  case 'Reshape': return L.reshape ({ name, targetShape: c.target_shape });
  case 'Multiply': return L.multiply ({ name });
  case 'Add': return L.add ({ name });
  case 'Dropout': return L.dropout ({ name, rate: c.rate });
  case 'Dense': return L.dense ({ name, units: c.units, activation: c.activation });
  }
  throw new Error (`layer ${name}: class ${entry.class_name} is not handled here`);
}

async function loadKeras3 (file) {
  const members = unzipStored (fs.readFileSync (file));
  const config = JSON.parse (members['config.json'].toString ('utf8'));
  const tmp = fs.mkdtempSync (path.join (os.tmpdir (), 'osh-default-'));
  const weightsPath = path.join (tmp, 'model.weights.h5');
  fs.writeFileSync (weightsPath, members['model.weights.h5']);
  await h5wasm.ready;
  const h5 = new h5wasm.File (weightsPath, 'r');
  const tensors = new Map (), layers = [], entries = [];
  for (const entry of config.config.layers) {
    if (entry.class_name === 'InputLayer') {
      tensors.set (entry.name, tf.input ({ shape: entry.config.batch_shape.slice (1),
                                           name: entry.name }));
      continue;
    }
    const arg = entry.inbound_nodes[0].args[0];
    const inputs = (Array.isArray (arg) ? arg : [arg])
      .map ((t) => tensors.get (t.config.keras_history[0]));
    const layer = tfjsLayer (entry);
    tensors.set (entry.name, layer.apply (inputs.length === 1 ? inputs[0] : inputs));
    layers.push (layer);
    entries.push (entry);
  }
  // Keras 3 keys each layer by its class in snake case, numbered on repeats (conv2d_1).
  const used = new Map ();
  for (const [i, layer] of layers.entries ()) {
    const snake = entries[i].class_name.replace (/([a-z])([A-Z])|([A-Z])([A-Z][a-z])/g,
                                                 (m, a, b, c, d) => `${a ?? c}_${b ?? d}`)
      .toLowerCase ();
    const n = used.has (snake) ? used.get (snake) + 1 : 0;
    used.set (snake, n);
    const vars = h5.get (`layers/${n ? `${snake}_${n}` : snake}/vars`);
    const values = vars.keys ().sort ((a, b) => a - b).map ((k) => {
      const d = vars.get (k);
      return tf.tensor (d.value, d.shape);
    });
    if (values.length !== layer.weights.length)
      throw new Error (`layer ${layer.name}: ${values.length} stored variables, ` +
                       `tfjs expects ${layer.weights.length}`);
    if (values.length)
      layer.setWeights (values);
  }
  h5.close ();
  fs.rmSync (tmp, { recursive: true });
  const [out] = config.config.output_layers;
  return tf.model ({ inputs: tensors.get (config.config.input_layers[0][0]),
                     outputs: tensors.get (out[0]) });
}

const model = await loadKeras3 (path.join (root, 'resources/models/default.keras'));
const torchRef = JSON.parse (fs.readFileSync (path.join (root, 'tests/zoo/torch-predictions.json')));
let worst = 0, right = 0;
const samples = torchRef.samples.map ((s) => {
  const { pixels, shape } = readPng (path.join (root, 'resources/samples', s.file));
  const p = Array.from (tf.tidy (() => model.predict (tf.tensor4d (pixels, [1, ...shape])))
    .dataSync ());
  p.forEach ((v, i) => { worst = Math.max (worst, Math.abs (v - s.probabilities[i])); });
  const top = p.indexOf (Math.max (...p));
  right += top === s.label ? 1 : 0;
  console.log (`${s.file}: tfjs ${top} (${p[top].toFixed (4)}), label ${s.label}`);
  return { ...s, probabilities: p };
});
console.log (`params ${model.countParams ()}; samples right ${right}/${samples.length}; ` +
             `largest |tfjs - torch| ${worst.toExponential (2)}`);
if (worst > 1e-4)
  throw new Error ('tfjs and PyTorch disagree: the Keras 3 export is wrong');
fs.writeFileSync (path.join (root, 'tests/zoo/default-predictions.json'), JSON.stringify ({
  classes: torchRef.classes, input: torchRef.input, producer: 'tfjs 4.22 (check-tfjs.mjs)',
  params: model.countParams (), held_out_accuracy: torchRef.held_out_accuracy,
  largest_difference_from_torch: worst, samples }, null, 1) + '\n');
