// Makes the TF.js reader fixtures with tfjs itself (CPU backend, no tfjs-node):
//   nested/    a functional model with a NESTED model ("backbone", with BatchNormalization) and a
//              layer shared by two calls, saved float32;
//   quantized/ a small conv model whose weights are stored uint8-, uint16- and float16-quantized
//              in two shards (tfjs's save cannot quantize, so this script quantizes the float32
//              save following the weightsManifest spec: value = min + scale·q, or float16).
// Each folder gets model.json, its shard(s) and expected.json: layer names, classes and
// parameter counts from tfjs, and for every weight its shape, sum and first values as tfjs
// reads it back (tf.loadLayersModel dequantizes by itself), plus tfjs's prediction on a fixed
// input so the executor can be checked on these files too.
//
//   node tools/reference/readers-make-tfjs-fixtures.mjs [OUT_DIR]   (default tests/readers/fixtures)
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const require = createRequire(path.join(root, "tests", "reference", "package.json"));
const tf = require("@tensorflow/tfjs");
const outDir = path.resolve(process.argv[2] ?? path.join(root, "tests", "readers", "fixtures"));
await tf.setBackend("cpu");

// Seeded randomness (mulberry32), so re-running gives the same files.
let seed = 20261127;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function randomize(model) {
  for (const layer of model.layers) {
    const sub = layer.layers ? layer : null;
    if (sub) { randomize(sub); continue; }
    layer.setWeights(layer.getWeights().map((w, i) => {
      const n = w.size;
      const isVariance = /moving_variance/.test(layer.weights[i].originalName);
      const vals = Float32Array.from({ length: n }, () => (isVariance ? 0.5 + rand() : rand() * 2 - 1));
      return tf.tensor(vals, w.shape);
    }));
  }
}

async function artifactsOf(model) {
  let saved;
  await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: {} }; }));
  return saved;
}

function writeModel(dir, topology, groups) {
  fs.mkdirSync(dir, { recursive: true });
  const manifest = groups.map((g) => ({ paths: g.shards.map((s) => s.name), weights: g.specs }));
  for (const g of groups) for (const s of g.shards) fs.writeFileSync(path.join(dir, s.name), Buffer.from(s.bytes));
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify({
    format: "layers-model", generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`, convertedBy: null,
    modelTopology: topology, weightsManifest: manifest }));
}

// What tfjs makes of the saved files: it loads them back with its own decoder.
async function expected(dir, input) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  const specs = [], chunks = [];
  for (const g of json.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) chunks.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(chunks);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const model = await tf.loadLayersModel({ load: async () => ({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }) });
  const describe = (m) => m.layers.map((l) => ({
    name: l.name, class_name: l.getClassName(), params: l.countParams(),
    ...(l.layers ? { layers: describe(l) } : {}) }));
  const weights = {};
  for (const w of model.weights) {
    const v = w.read().dataSync();
    weights[w.originalName] = { shape: w.shape, trainable: w.trainable, sum: v.reduce((a, b) => a + b, 0),
                                first: Array.from(v.slice(0, 4)) };
  }
  const trainable = model.trainableWeights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  const out = model.predict(input);
  const outs = (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
  fs.writeFileSync(path.join(dir, "expected.json"), JSON.stringify({
    total_params: model.countParams(), trainable_params: trainable, layers: describe(model),
    inputs: model.inputs.map((t) => t.shape), outputs: model.outputs.map((t) => t.shape),
    weights, input: { shape: input.shape, values: Array.from(input.dataSync()) }, predictions: outs }, null, 1));
}

// ---- (a) nested model + shared layer ----
{
  const innerIn = tf.input({ shape: [6], name: "inner_in" });
  let h = tf.layers.dense({ units: 5, name: "inner_fc" }).apply(innerIn);
  h = tf.layers.batchNormalization({ name: "inner_bn" }).apply(h);
  const backbone = tf.model({ inputs: innerIn, outputs: h, name: "backbone" });
  const x = tf.input({ shape: [6], name: "x" });
  const feat = backbone.apply(x);
  const shared = tf.layers.dense({ units: 5, activation: "tanh", name: "shared" });
  const a = shared.apply(feat);
  const b = shared.apply(a);
  const sum = tf.layers.add({ name: "sum" }).apply([a, b]);
  const head = tf.layers.dense({ units: 3, activation: "softmax", name: "head" }).apply(sum);
  const model = tf.model({ inputs: x, outputs: [head, feat], name: "outer" });
  randomize(model);
  const art = await artifactsOf(model);
  const dir = path.join(outDir, "tfjs-nested");
  writeModel(dir, art.modelTopology, [{ specs: art.weightSpecs, shards: [{ name: "weights.bin", bytes: art.weightData }] }]);
  await expected(dir, tf.tensor(Float32Array.from({ length: 12 }, () => rand() * 2 - 1), [2, 6]));
}

// ---- (b) quantized conv model, two shards ----
{
  const model = tf.sequential({ name: "quant", layers: [
    tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3, name: "conv" }),
    tf.layers.batchNormalization({ name: "bn" }),
    tf.layers.flatten({ name: "flat" }),
    tf.layers.dense({ units: 3, name: "fc" }) ] });
  randomize(model);
  const art = await artifactsOf(model);
  const floats = new Float32Array(art.weightData);
  const specs = [], parts = [];
  let at = 0;
  // Each weight in turn: uint8, uint16 or float16 (as a quantization).
  const kinds = ["uint8", "uint16", "float16"];
  art.weightSpecs.forEach((spec, i) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const v = floats.subarray(at, at + n);
    at += n;
    const kind = kinds[i % kinds.length];
    if (kind === "uint8" || kind === "uint16") {
      const levels = kind === "uint8" ? 255 : 65535;
      const min = Math.min(...v), max = Math.max(...v);
      const scale = (max - min) / levels || 1;
      const q = (kind === "uint8" ? Uint8Array : Uint16Array).from(v, (x) => Math.round((x - min) / scale));
      parts.push(new Uint8Array(q.buffer));
      specs.push({ ...spec, quantization: { dtype: kind, min, scale, original_dtype: "float32" } });
    } else {
      const h = new Uint16Array(Array.from(v, (x) => f32ToF16(x)));
      parts.push(new Uint8Array(h.buffer));
      specs.push({ ...spec, quantization: { dtype: "float16", original_dtype: "float32" } });
    }
  });
  const all = Buffer.concat(parts.map((p) => Buffer.from(p)));
  const cut = Math.floor(all.length / 3) + 1; // an arbitrary byte, mid-weight
  const dir = path.join(outDir, "tfjs-quantized");
  writeModel(dir, art.modelTopology, [{ specs, shards: [
    { name: "group1-shard1of2.bin", bytes: all.subarray(0, cut) }, { name: "group1-shard2of2.bin", bytes: all.subarray(cut) }] }]);
  await expected(dir, tf.tensor(Float32Array.from({ length: 72 }, () => rand() * 2 - 1), [1, 6, 6, 2]));

  // The same bytes with float16 written as a plain dtype ("dtype": "float16", no quantization),
  // which other writers produce and tfjs 4.22 itself refuses: the expected values are the same.
  const dir16 = path.join(outDir, "tfjs-float16-dtype");
  const specs16 = specs.map((s) => (s.quantization?.dtype === "float16"
    ? (({ quantization, ...rest }) => ({ ...rest, dtype: "float16" }))(s) : s));
  writeModel(dir16, art.modelTopology, [{ specs: specs16, shards: [{ name: "weights.bin", bytes: all }] }]);
  fs.copyFileSync(path.join(dir, "expected.json"), path.join(dir16, "expected.json"));
}

// float32 → IEEE half, round to nearest even.
function f32ToF16(x) {
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000, exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  if (exp >= 31) return sign | 0x7c00;
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}
console.log(`wrote ${outDir}/tfjs-nested and tfjs-quantized`);
