// Makes the seed-scenario fixture with tfjs (the independent Keras implementation):
// a small EfficientNet-like backbone model (its own Input, a layer named block5a_expand_conv)
// nested inside an outer classifier, saved as TF.js model.json + weights.bin, and what tfjs
// itself says about the two ways of attaching the seed head at block5a_expand_conv:
//  - the seed's mistake (head on the inner layer, outputs from the outer model's input):
//    tfjs's exact "Graph disconnected" message;
//  - the StackOverflow answer (everything from the SAME instance's input): it builds, and
//    its output shapes.
//
//   node tools/reference/edit-make-seed.mjs [OUT_DIR]     (default tests/edit/fixtures/seed)
//
// Writes OUT/model.json, OUT/weights.bin and OUT/tfjs.json. tools/reference/edit-seed-h5.py
// turns the same model into a Keras 2 .h5 (OUT/model.h5) for the .h5 reader.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { mulberry32, saveLayersModel } from "./tfjs-common.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const require = createRequire(path.join(root, "tests", "reference", "package.json"));
const tf = require("@tensorflow/tfjs");
const outDir = path.resolve(process.argv[2] ?? path.join(root, "tests", "edit", "fixtures", "seed"));
await tf.setBackend("cpu");

// Seeded weights (mulberry32) so the fixture is reproducible and not degenerate.
const random = mulberry32(20260527);
function randomize(model) {
  for (const layer of model.layers) {
    if (layer.layers) {
      randomize(layer);
      continue;
    }
    const values = layer.getWeights().map((w, i) => {
      const n = w.size;
      const data = new Float32Array(n);
      const isVariance = layer.getClassName() === "BatchNormalization" && i === 3;
      for (let k = 0; k < n; k++) data[k] = isVariance ? 0.5 + random() : (random() - 0.5) * 0.4;
      return tf.tensor(data, w.shape);
    });
    if (values.length) layer.setWeights(values);
  }
}

// The backbone is made first, like EfficientNetB7(...) in the seed: its Input is input_1,
// the outer model's is input_2 (the names Keras would give).
const SIZE = 64;
function backbone() {
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: "input_1" });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "stem_conv" }).apply(input);
  x = tf.layers.batchNormalization({ name: "stem_bn" }).apply(x);
  x = tf.layers.activation({ activation: "relu", name: "stem_activation" }).apply(x);
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false, name: "block1a_dwconv" }).apply(x);
  x = tf.layers.conv2d({ filters: 16, kernelSize: 1, strides: 2, padding: "same", name: "block5a_expand_conv" }).apply(x);
  x = tf.layers.batchNormalization({ name: "block5a_expand_bn" }).apply(x);
  x = tf.layers.activation({ activation: "relu", name: "block5a_expand_activation" }).apply(x);
  x = tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: "same", name: "top_conv" }).apply(x);
  x = tf.layers.activation({ activation: "relu", name: "top_activation" }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: "efficientnet" });
}
const en = backbone();
const input = tf.input({ shape: [SIZE, SIZE, 3], name: "input_2" });
let y = en.apply(input);
y = tf.layers.globalAveragePooling2d({ name: "avg_pool" }).apply(y);
y = tf.layers.dense({ units: 4, activation: "softmax", name: "predictions" }).apply(y);
const model = tf.model({ inputs: input, outputs: y, name: "outer" });
randomize(model);

// The seed head, as Offshoot names it.
function seedHead(x, suffix = "") {
  x = tf.layers.conv2d({ filters: 128, kernelSize: 3, padding: "same", name: "aux_head_conv" + suffix }).apply(x);
  x = tf.layers.batchNormalization({ name: "aux_head_bn" + suffix }).apply(x);
  x = tf.layers.reLU({ name: "aux_head_relu" + suffix }).apply(x);
  return tf.layers.conv2d({ filters: 1, kernelSize: 1, name: "aux_head_out" + suffix }).apply(x);
}

// The seed's mistake: the head reads the inner layer, the model keeps the outer input.
let kerasModeMessage = null;
try {
  const aux = seedHead(model.getLayer("efficientnet").getLayer("block5a_expand_conv").output);
  tf.model({ inputs: model.inputs, outputs: [model.outputs[0], aux] });
} catch (e) {
  kerasModeMessage = e.message;
}
if (!kerasModeMessage || !kerasModeMessage.startsWith("Graph disconnected")) {
  throw new Error(`expected tfjs to refuse the keras-mode model, got: ${kerasModeMessage}`);
}
const atLayer = /at layer "([^"]+)"/.exec(kerasModeMessage)[1];

// The StackOverflow answer: everything from the same instance's own input.
const inner = model.getLayer("efficientnet");
let cls = tf.layers.globalAveragePooling2d({ name: "avg_pool_2" }).apply(inner.outputs[0]);
cls = tf.layers.dense({ units: 4, activation: "softmax", name: "predictions_2" }).apply(cls);
const fixed = tf.model({
  inputs: inner.inputs,
  outputs: [cls, seedHead(inner.getLayer("block5a_expand_conv").output, "_2")],
});

await saveLayersModel(tf, model, outDir);
const record = {
  tfjs_version: tf.version.tfjs,
  backbone_input: en.inputs[0].name.replace(/\/.*$/, ""),
  outer_input: model.inputs[0].name.replace(/\/.*$/, ""),
  keras_mode: { message: kerasModeMessage, at_layer: atLayer },
  same_instance: { output_shapes: fixed.outputs.map((t) => t.shape) },
};
fs.writeFileSync(path.join(outDir, "tfjs.json"), JSON.stringify(record, null, 2) + "\n");
console.log(JSON.stringify(record, null, 2));
