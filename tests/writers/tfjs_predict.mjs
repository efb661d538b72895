// Loads a TF.js layers model.json (and its shards) from disk with tfjs's own loader and prints
// one JSON document: layer names and classes, parameter count, weight names, and the model's
// outputs on the input given as JSON (a nested array, batch included).
//   node tfjs_predict.mjs MODEL.json '[[[...]]]'
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.env.OSH_SOURCE_ROOT || '.', 'tests/reference/'));
const tf = require('@tensorflow/tfjs');

const [modelPath, inputJson] = process.argv.slice(2);
const handler = {
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
      convertedBy: doc.convertedBy, weightSpecs: specs,
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    };
  },
};

const model = await tf.loadLayersModel(handler, { strict: true });
const x = tf.tensor(JSON.parse(inputJson));
let ys = model.predict(x);
if (!Array.isArray(ys)) ys = [ys];
const out = {
  layers: model.layers.map((l) => ({ name: l.name, class_name: l.getClassName() })),
  params: model.countParams(),
  weights: model.weights.map((w) => w.originalName),
  outputs: ys.map((y) => Array.from(y.dataSync())),
};
process.stdout.write(JSON.stringify(out) + '\n');
