// Makes tests/writers/fixtures/: small tfjs models with nested models, saved by tfjs itself
// (model.json + group1-shard1of1.bin), with inputs and tfjs's outputs on them (io.json:
// {"inputs": [one array per model input], "outputs": [flat arrays], "params"}).
//   node tools/reference/writers-make-fixtures.mjs
// - so_nested: the StackOverflow shape: a backbone Functional (conv, BN, ReLU, conv) nested in
//   an outer Functional with a classification head (GAP, Dense softmax).
// - nested_sequential: a Sequential feature extractor nested in a Functional, called on two
//   inputs (a shared nested model), outputs concatenated.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(root, 'tests', 'reference', 'package.json'));
const tf = require('@tensorflow/tfjs');

let seed = 7;
function rand() { // deterministic weights: a small LCG
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 - 0.5;
}
function randomize(model) {
  for (const w of model.weights) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const v = Float32Array.from({ length: n }, () => rand());
    if (w.originalName.endsWith('moving_variance')) for (let i = 0; i < n; i++) v[i] = 0.5 + Math.abs(v[i]);
    w.write(tf.tensor(v, w.shape));
  }
}

async function save(model, name, input) {
  const dir = path.join(root, 'tests', 'writers', 'fixtures', name);
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (a) => {
    const doc = {
      format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy,
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }],
    };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(doc));
    fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.from(a.weightData));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  let ys = model.predict(input);
  if (!Array.isArray(ys)) ys = [ys];
  const inputs = Array.isArray(input) ? input : [input];
  const io = {
    inputs: await Promise.all(inputs.map((t) => t.array())),
    outputs: ys.map((y) => Array.from(y.dataSync())),
    params: model.countParams(),
  };
  fs.writeFileSync(path.join(dir, 'io.json'), JSON.stringify(io));
}

{
  const bin = tf.input({ shape: [12, 12, 3], name: 'backbone_input' });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'block1_conv' }).apply(bin);
  x = tf.layers.batchNormalization({ name: 'block1_bn' }).apply(x);
  x = tf.layers.activation({ activation: 'relu', name: 'block1_relu' }).apply(x);
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'block2_expand_conv' }).apply(x);
  const backbone = tf.model({ inputs: bin, outputs: x, name: 'backbone' });
  const img = tf.input({ shape: [12, 12, 3], name: 'image' });
  let y = backbone.apply(img);
  y = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(y);
  y = tf.layers.dense({ units: 4, activation: 'softmax', name: 'predictions' }).apply(y);
  const model = tf.model({ inputs: img, outputs: y, name: 'classifier' });
  randomize(model);
  const input = tf.tensor(Float32Array.from({ length: 12 * 12 * 3 }, (_, i) => Math.sin(i * 0.7)), [1, 12, 12, 3]);
  await save(model, 'so_nested', input);
}

{
  const features = tf.sequential({ name: 'features', layers: [
    tf.layers.dense({ inputShape: [6], units: 5, activation: 'tanh', name: 'fc1' }),
    tf.layers.dense({ units: 3, name: 'fc2' }),
  ] });
  const a = tf.input({ shape: [6], name: 'left' });
  const b = tf.input({ shape: [6], name: 'right' });
  const merged = tf.layers.concatenate({ name: 'both' }).apply([features.apply(a), features.apply(b)]);
  const out = tf.layers.dense({ units: 2, name: 'score' }).apply(merged);
  const model = tf.model({ inputs: [a, b], outputs: out, name: 'siamese' });
  randomize(model);
  const left = tf.tensor([[0.1, -0.2, 0.3, 0.5, -0.7, 0.9]]);
  const right = tf.tensor([[-0.4, 0.8, 0.2, -0.1, 0.6, -0.3]]);
  await save(model, 'nested_sequential', [left, right]);
}
