// Loads TF.js layers model.json files (and their shards) from disk with tfjs's own loader and
// prints one JSON line per model: layer names and classes, parameter count, weight names, and
// the model's outputs on the input that follows the model, if any (a nested array with the
// batch, or {"inputs": [array, ...]} for several inputs; inline or as @file.json).
//   node tfjs_predict.mjs MODEL.json '[[[...]]]'
//   node tfjs_predict.mjs A/model.json @input.json B/model.json C/model.json
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { modelFilesHandler } from '../../tools/reference/tfjs-common.mjs';

const require = createRequire(path.join(process.env.OSH_SOURCE_ROOT || '.', 'tests/reference/'));
const tf = require('@tensorflow/tfjs');

const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const model = await tf.loadLayersModel(modelFilesHandler(args[i]), { strict: true });
  const out = {
    model: args[i],
    layers: model.layers.map((l) => ({ name: l.name, class_name: l.getClassName() })),
    params: model.countParams(),
    weights: model.weights.map((w) => w.originalName),
    outputs: [],
  };
  const next = args[i + 1];
  if (next !== undefined && (next.startsWith('[') || next.startsWith('{') || next.startsWith('@'))) {
    i++;
    const text = next.startsWith('@') ? fs.readFileSync(next.slice(1), 'utf8') : next;
    const parsed = JSON.parse(text);
    const x = Array.isArray(parsed) ? tf.tensor(parsed) : parsed.inputs.map((a) => tf.tensor(a));
    let ys = model.predict(x);
    if (!Array.isArray(ys)) ys = [ys];
    out.outputs = ys.map((y) => Array.from(y.dataSync()));
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
