// tfjs's own training of the seed's heads, for tests/train/test-train-tfjs.c: the independent
// reference for "one epoch without shuffling, from the same initial weights on the same batches".
//
//   node tools/reference/train-tfjs-fit.mjs [OUT_DIR]      (default tests/train/tfjs-fit)
//
// Two heads whose input IS the feature map (the frozen backbone's output, so both sides train on
// the same tensors): "seg", the seed head (Conv2D 3×3 → BatchNormalization → ReLU → Conv2D 1×1(1),
// logits) with binary cross-entropy on logits against masks; "cls", a classifier (Conv2D 3×3 →
// BatchNormalization → ReLU → GlobalAveragePooling2D → Dense softmax) with categorical
// cross-entropy. Each is saved untrained as a TF.js layers model (OUT/NAME/model.json +
// weights.bin, what Offshoot reads), then trained by tfjs's model.fit for one epoch
// (shuffle false) with SGD + momentum and, from the same initial weights, with Adam.
// OUT/tfjs-fit.json holds the features, the targets, each run's optimizer, batch, per-batch
// losses and every weight after the epoch (BatchNormalization's moving statistics included).
//
// Losses as Offshoot picks them for the output kind, as tfjs spells them: tfjs-layers'
// "binaryCrossentropy" takes probabilities (Keras's from_logits=True has no tfjs-layers
// spelling), so the seg head's loss is tf.losses.sigmoidCrossEntropy on the logits, per pixel
// (Reduction.NONE), which model.fit then averages like Keras's sum_over_batch_size;
// the classifier's is tfjs-layers' "categoricalCrossentropy" on the softmax.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { mulberry32, saveLayersModel } from "./tfjs-common.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const require = createRequire(path.join(root, "tests", "reference", "package.json"));
const tf = require("@tensorflow/tfjs");
const outDir = path.resolve(process.argv[2] ?? path.join(root, "tests", "train", "tfjs-fit"));
await tf.setBackend("cpu");

const random = mulberry32(20261206);

const N = 36, H = 4, W = 4, C = 4, BATCH = 8, CLASSES = 3;
// Features on a 1/16 grid: exact in float32 and short in JSON.
const features = Float32Array.from({ length: N * H * W * C }, () => Math.round((random() * 4 - 2) * 16) / 16);
// Targets the heads can learn from the features: a mask where channels 0 + 1 are positive,
// the class of the largest of the first three channels' means.
const masks = new Float32Array(N * H * W);
const onehot = new Float32Array(N * CLASSES);
for (let n = 0; n < N; n++) {
  const sums = new Float64Array(CLASSES);
  for (let p = 0; p < H * W; p++) {
    const at = (n * H * W + p) * C;
    masks[n * H * W + p] = features[at] + features[at + 1] > 0 ? 1 : 0;
    for (let k = 0; k < CLASSES; k++) sums[k] += features[at + k];
  }
  onehot[n * CLASSES + sums.indexOf(Math.max(...sums))] = 1;
}

function build(kind) {
  const input = tf.input({ shape: [H, W, C], name: "features" });
  // No bias before the BatchNormalization (as Keras's own EfficientNet convs): its exact
  // gradient is 0 (the batch mean removes it), so only rounding noise reaches it, and Adam scales
  // noise to steps of about lr whose size no two implementations share.
  let x = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: "same", useBias: false, name: "head_conv" }).apply(input);
  x = tf.layers.batchNormalization({ name: "head_bn" }).apply(x);
  x = tf.layers.reLU({ name: "head_relu" }).apply(x);
  if (kind === "seg") {
    x = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: "head_out" }).apply(x);
  } else {
    x = tf.layers.globalAveragePooling2d({ name: "head_pool" }).apply(x);
    x = tf.layers.dense({ units: CLASSES, activation: "softmax", name: "head_out" }).apply(x);
  }
  return tf.model({ inputs: input, outputs: x, name: kind });
}

// Initial weights drawn here (not tfjs's initialisers) so that every one of them, moving
// statistics included, starts away from its default and its update shows.
function initialWeights(model) {
  return model.layers.map((layer) =>
    layer.getWeights().map((w, i) => {
      const bn = layer.getClassName() === "BatchNormalization";
      const data = Float32Array.from({ length: w.size }, () => {
        const r = random();
        if (bn) return [0.8 + 0.4 * r, (r - 0.5) * 0.2, (r - 0.5) * 0.4, 0.5 + r][i];
        return (r - 0.5) * (i === 0 ? 0.8 : 0.2);
      });
      return tf.tensor(data, w.shape);
    }),
  );
}

const bceOnLogits = (yTrue, yPred) =>
  tf.losses.sigmoidCrossEntropy(yTrue, yPred, undefined, 0, tf.Reduction.NONE);

const optimizers = [
  { kind: "sgd", lr: 0.05, momentum: 0.9, make: (o) => tf.train.momentum(o.lr, o.momentum, false) },
  // Adam's epsilon: tfjs adds it to √v̂ (Algorithm 1 of Kingma & Ba), Keras to √v (its
  // "epsilon hat", the formula before their section 2.1), which Offshoot follows. Both are the
  // same update as epsilon → 0, so the run uses a tiny one; at tfjs's default 1e-7 the
  // weights with small gradients differ by up to 0.5 % (see engine/train/README.md).
  { kind: "adam", lr: 0.01, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-12,
    make: (o) => tf.train.adam(o.lr, o.beta_1, o.beta_2, o.epsilon) },
];

const round = (a) => Array.from(a);
const runs = [];
for (const kind of ["seg", "cls"]) {
  const init = initialWeights(build(kind));
  await (async () => {
    const m = build(kind);
    m.layers.forEach((l, i) => init[i].length && l.setWeights(init[i]));
    await saveLayersModel(tf, m, path.join(outDir, kind));
  })();
  const x = tf.tensor(features, [N, H, W, C]);
  const y = kind === "seg" ? tf.tensor(masks, [N, H, W, 1]) : tf.tensor(onehot, [N, CLASSES]);
  for (const o of optimizers) {
    const model = build(kind);
    model.layers.forEach((l, i) => init[i].length && l.setWeights(init[i]));
    model.compile({
      optimizer: o.make(o),
      loss: kind === "seg" ? bceOnLogits : "categoricalCrossentropy",
    });
    const losses = [];
    await model.fit(x, y, {
      batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0,
      callbacks: { onBatchEnd: async (_, logs) => losses.push(logs.loss) },
    });
    const trained = {};
    for (const layer of model.layers) {
      const ws = layer.getWeights();
      if (ws.length) trained[layer.name] = ws.map((w) => round(w.dataSync()));
    }
    const { make, ...optimizer } = o;
    runs.push({ name: `${kind}-${o.kind}`, model: kind, loss: kind === "seg" ? "bce" : "cce",
                optimizer, batch: BATCH, losses, trained });
    console.log(`${kind} ${o.kind}: losses ${losses.map((v) => v.toFixed(5)).join(" ")}`);
  }
}

const record = {
  tfjs_version: tf.version.tfjs,
  features: { shape: [N, H, W, C], data: round(features) },
  targets: { seg: { shape: [N, H, W, 1], data: round(masks) },
             cls: { shape: [N, CLASSES], data: round(onehot) } },
  runs,
};
fs.writeFileSync(path.join(outDir, "tfjs-fit.json"), JSON.stringify(record) + "\n");
