// Writes tests/layout/fixtures/seed-nested/: a small TF.js layers model shaped like the
// DESIGN.md seed — an EfficientNet-style backbone (blocks block1a, block2a, block2b, block3a)
// nested as a model inside an outer classifier. `offshoot render ... --attach
// backbone/block2a_expand_conv=seg --attach-mode=keras` reproduces "Graph disconnected".
//   node tools/reference/layout-seed-fixture.mjs
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(path.join(root, "tests", "reference", "package.json"));
const tf = require("@tensorflow/tfjs");
const L = tf.layers;

function block(x, prefix, expand, filters, stride, skip) {
  let y = x;
  if (expand) {
    y = L.conv2d({ name: `${prefix}_expand_conv`, filters: expand, kernelSize: 1, padding: "same", useBias: false }).apply(y);
    y = L.batchNormalization({ name: `${prefix}_expand_bn` }).apply(y);
    y = L.activation({ name: `${prefix}_expand_activation`, activation: "swish" }).apply(y);
  }
  y = L.depthwiseConv2d({ name: `${prefix}_dwconv`, kernelSize: 3, strides: stride, padding: "same", useBias: false }).apply(y);
  y = L.batchNormalization({ name: `${prefix}_bn` }).apply(y);
  y = L.activation({ name: `${prefix}_activation`, activation: "swish" }).apply(y);
  y = L.conv2d({ name: `${prefix}_project_conv`, filters, kernelSize: 1, padding: "same", useBias: false }).apply(y);
  y = L.batchNormalization({ name: `${prefix}_project_bn` }).apply(y);
  if (skip) y = L.add({ name: `${prefix}_add` }).apply([y, x]);
  return y;
}

tf.util.seedrandom?.(1);
const inner = tf.input({ shape: [32, 32, 3], name: "input_2" });
let x = L.conv2d({ name: "stem_conv", filters: 8, kernelSize: 3, strides: 2, padding: "same", useBias: false }).apply(inner);
x = L.batchNormalization({ name: "stem_bn" }).apply(x);
x = L.activation({ name: "stem_activation", activation: "swish" }).apply(x);
x = block(x, "block1a", 0, 8, 1, false);
x = block(x, "block2a", 24, 12, 2, false);
x = block(x, "block2b", 36, 12, 1, true);
x = block(x, "block3a", 36, 16, 2, false);
x = L.conv2d({ name: "top_conv", filters: 32, kernelSize: 1, padding: "same", useBias: false }).apply(x);
x = L.batchNormalization({ name: "top_bn" }).apply(x);
x = L.activation({ name: "top_activation", activation: "swish" }).apply(x);
const backbone = tf.model({ inputs: inner, outputs: x, name: "backbone" });

const outer = tf.input({ shape: [32, 32, 3], name: "input_1" });
let y = backbone.apply(outer);
y = L.globalAveragePooling2d({ name: "avg_pool" }).apply(y);
y = L.dense({ name: "predictions", units: 3, activation: "softmax" }).apply(y);
const model = tf.model({ inputs: outer, outputs: y, name: "seed" });

const dir = path.join(root, "tests", "layout", "fixtures", "seed-nested");
fs.mkdirSync(dir, { recursive: true });
await model.save(tf.io.withSaveHandler(async (a) => {
  fs.writeFileSync(path.join(dir, "weights.bin"), Buffer.from(a.weightData));
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify({
    format: "layers-model",
    generatedBy: a.generatedBy,
    convertedBy: "offshoot tools/reference/layout-seed-fixture.mjs",
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs }],
  }));
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
}));
console.log(`wrote ${dir}: ${model.layers.length} outer layers, backbone ${backbone.layers.length} layers`);
