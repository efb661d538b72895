// Makes the tfjs parity fixtures: small models built with tfjs (the independent Keras
// implementation, CPU backend) covering every op family the executor supports, with random but
// non-degenerate weights, a seeded random input and tfjs's own output, and the corpus
// face_classification models (converted from .h5 with h5wasm) on their sample photos.
//
//   node tools/reference/parity-make-fixtures.mjs [OUT_DIR] [CORPUS_DIR]
//
// OUT_DIR defaults to tests/parity/fixtures; CORPUS_DIR to ../shared/corpus. Writes
// OUT/<name>/{model.json, weights.bin, input.npy, output.npy}; corpus fixtures keep only
// input.npy and output.npy (the C test loads the .h5 from the corpus) plus top.json.
// Photos are decoded and resized by ImageMagick (/usr/bin/convert) to the model's input size,
// made grayscale, then scaled as the authors did: (v / 255 - 0.5) * 2.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const require = createRequire(path.join(root, "tests", "reference", "package.json"));
const tf = require("@tensorflow/tfjs");
const h5wasm = (await import(pathToFileURL(
  path.join(root, "tests", "reference", "node_modules", "h5wasm", "dist", "node", "hdf5_hl.js")))).default;

const outDir = path.resolve(process.argv[2] ?? path.join(root, "tests", "parity", "fixtures"));
const corpusDir = path.resolve(process.argv[3] ?? path.join(root, "..", "shared", "corpus"));
await tf.setBackend("cpu");

// ---- seeded randomness (mulberry32) ----
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.normal = () => {
    const u = Math.max(next(), 1e-12), v = next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  next.uniform = (lo, hi) => lo + (hi - lo) * next();
  return next;
}

// ---- .npy writing (float32, C order, version 1.0) ----
function npyBytes(shape, data) {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += " ".repeat(Math.ceil(total / 64) * 64 - total) + "\n";
  const out = Buffer.alloc(10 + header.length + data.length * 4);
  out.write("\x93NUMPY", 0, "latin1");
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, "latin1");
  Buffer.from(new Float32Array(data).buffer).copy(out, 10 + header.length);
  return out;
}

function writeNpy(file, tensor) {
  fs.writeFileSync(file, npyBytes(tensor.shape, tensor.dataSync()));
}

// ---- weights: random, non-degenerate, BN statistics randomized ----
function randomizeWeights(model, r) {
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const name = w.originalName ?? w.name;
      const shape = w.shape;
      const n = shape.reduce((a, b) => a * b, 1);
      const fanIn = Math.max(1, n / (shape[shape.length - 1] || 1));
      let gen;
      if (/gamma$/.test(name)) gen = () => r.uniform(0.6, 1.4);
      else if (/moving_variance$/.test(name)) gen = () => r.uniform(0.5, 2.0);
      else if (/moving_mean$/.test(name)) gen = () => 0.5 * r.normal();
      else if (/(beta|bias)$/.test(name)) gen = () => 0.2 * r.normal();
      else if (/alpha$/.test(name)) gen = () => r.uniform(0.05, 0.5);
      else if (/depthwise_kernel$/.test(name)) {
        const k = Math.max(1, shape[0] * shape[1]);
        gen = () => r.normal() / Math.sqrt(k);
      } else gen = () => r.normal() / Math.sqrt(fanIn);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = gen();
      return tf.tensor(data, shape);
    });
    if (values.length) layer.setWeights(values);
    values.forEach((v) => v.dispose());
  }
}

// tfjs 4.22's SeparableConv2D.getConfig leaves out depth_multiplier (its weights have the
// multiplied shape): put it back so the saved config matches the weights, as Keras writes it.
function fixTopology(model, topology) {
  const config = (topology.model_config ?? topology).config;
  for (const entry of config.layers) {
    const layer = model.getLayer(entry.config.name ?? entry.name);
    if (layer.depthMultiplier !== undefined && entry.config.depth_multiplier === undefined)
      entry.config.depth_multiplier = layer.depthMultiplier;
  }
}

async function saveModel(model, dir) {
  await model.save(tf.io.withSaveHandler(async (a) => {
    fixTopology(model, a.modelTopology);
    const weights = Buffer.from(a.weightData);
    fs.writeFileSync(path.join(dir, "weights.bin"), weights);
    const json = {
      format: "layers-model",
      generatedBy: a.generatedBy,
      convertedBy: "offshoot tools/reference/parity-make-fixtures.mjs",
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs }],
    };
    fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
}

// Reads the files back through tfjs itself, so a fixture that tfjs cannot load never ships.
async function reloadAndCheck(dir, x, y) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  const bin = fs.readFileSync(path.join(dir, "weights.bin"));
  const handler = { load: async () => ({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest[0].weights,
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }) };
  const again = await tf.loadLayersModel(handler);
  const diff = tf.max(tf.abs(tf.sub(again.predict(x), y))).dataSync()[0];
  if (!(diff <= 1e-6)) throw new Error(`${dir}: reloaded model differs by ${diff}`);
}

const L = tf.layers;
const input = (shape, name = "input") => tf.input({ shape, name });
const seq = (inputShape, layers) => {
  const x = input(inputShape);
  let y = x;
  for (const l of layers) y = l.apply(y);
  return tf.model({ inputs: x, outputs: y });
};

// Each entry: a builder returning a tfjs model; `range` is the input's uniform range.
const models = {
  conv2d_valid: () => seq([9, 9, 3], [L.conv2d({ filters: 4, kernelSize: 3, activation: "relu" })]),
  conv2d_same_stride2: () => seq([9, 9, 3], [L.conv2d({ filters: 5, kernelSize: 3, strides: 2, padding: "same" })]),
  conv2d_same_stride2_even: () => seq([8, 10, 3], [L.conv2d({ filters: 3, kernelSize: [4, 3], strides: 2, padding: "same" })]),
  conv2d_valid_strides: () => seq([10, 9, 3], [L.conv2d({ filters: 4, kernelSize: [3, 2], strides: [2, 3] })]),
  conv2d_dilated: () => seq([12, 12, 2], [
    L.conv2d({ filters: 3, kernelSize: 3, padding: "same", dilationRate: 2 }),
    L.conv2d({ filters: 3, kernelSize: 3, dilationRate: [2, 3], useBias: false }),
  ]),
  conv2d_1x1: () => seq([6, 6, 8], [L.conv2d({ filters: 16, kernelSize: 1, activation: "tanh" })]),
  depthwise: () => seq([9, 9, 4], [
    L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: "same" }),
    L.depthwiseConv2d({ kernelSize: 3, activation: "relu6" }),
  ]),
  separable: () => seq([10, 10, 3], [
    L.separableConv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }),
    L.separableConv2d({ filters: 4, kernelSize: 3, strides: 2, depthMultiplier: 2 }),
  ]),
  conv2d_transpose: () => seq([5, 5, 3], [
    L.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: "same" }),
    L.conv2dTranspose({ filters: 2, kernelSize: [3, 2], strides: [1, 2] }),
  ]),
  dense: () => seq([12], [
    L.dense({ units: 16, activation: "relu" }),
    L.dropout({ rate: 0.5 }),
    L.gaussianNoise({ stddev: 1 }),
    L.dense({ units: 10, activation: "softmax" }),
  ]),
  dense_rank3: () => seq([4, 6], [L.dense({ units: 5, activation: "sigmoid" })]),
  batchnorm: () => seq([6, 6, 4], [
    L.conv2d({ filters: 4, kernelSize: 3, padding: "same" }),
    L.batchNormalization({ epsilon: 1e-3 }),
    L.batchNormalization({ center: false, scale: false, epsilon: 0.01 }),
  ]),
  layernorm: () => seq([5, 8], [L.layerNormalization({ axis: -1 })]),
  activations: () => {
    const x = input([16]);
    const h = L.dense({ units: 16 }).apply(x);
    const names = ["elu", "hardSigmoid", "linear", "relu", "relu6", "selu", "sigmoid", "softmax",
      "softplus", "softsign", "tanh", "swish", "mish", "gelu"];
    const ys = names.map((n) => L.activation({ activation: n, name: `act_${n.toLowerCase()}` }).apply(h));
    return tf.model({ inputs: x, outputs: L.concatenate().apply(ys) });
  },
  activation_layers: () => {
    const x = input([6, 6, 3]);
    const h = L.conv2d({ filters: 4, kernelSize: 1 }).apply(x);
    const ys = [
      L.reLU({ maxValue: 6 }).apply(h),
      L.leakyReLU({ alpha: 0.2 }).apply(h),
      L.prelu({ sharedAxes: [1, 2] }).apply(h),
      L.prelu().apply(h),
      L.elu({ alpha: 1.0 }).apply(h),
      L.softmax({ axis: -1 }).apply(h),
    ];
    return tf.model({ inputs: x, outputs: L.concatenate().apply(ys) });
  },
  pooling: () => {
    const x = input([9, 9, 3]);
    const ys = [
      L.maxPooling2d({ poolSize: 2 }),
      L.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }),
      L.averagePooling2d({ poolSize: 3, strides: 2, padding: "same" }),
      L.averagePooling2d({ poolSize: 2, padding: "valid" }),
      L.averagePooling2d({ poolSize: [2, 3], strides: [1, 2], padding: "same" }),
    ].map((l) => L.flatten().apply(l.apply(x)));
    return tf.model({ inputs: x, outputs: L.concatenate().apply(ys) });
  },
  global_pooling: () => {
    const x = input([5, 6, 4]);
    const ys = [L.globalAveragePooling2d({}).apply(x), L.globalMaxPooling2d({}).apply(x)];
    return tf.model({ inputs: x, outputs: L.concatenate().apply(ys) });
  },
  global_pooling_1d: () => {
    const x = input([7, 4]);
    const ys = [L.globalAveragePooling1d({}).apply(x), L.globalMaxPooling1d({}).apply(x)];
    return tf.model({ inputs: x, outputs: L.concatenate().apply(ys) });
  },
  pad_crop_upsample: () => seq([5, 6, 2], [
    L.zeroPadding2d({ padding: [[1, 2], [0, 3]] }),
    L.cropping2D({ cropping: [[2, 0], [1, 1]] }),
    L.upSampling2d({ size: [2, 3] }),
    L.conv2d({ filters: 2, kernelSize: 3 }),
    L.upSampling2d({ size: [2, 2], interpolation: "bilinear" }),
  ]),
  merges: () => {
    const x = input([4, 4, 6]);
    const a = L.conv2d({ filters: 6, kernelSize: 1 }).apply(x);
    const b = L.conv2d({ filters: 6, kernelSize: 3, padding: "same" }).apply(x);
    const g = L.reshape({ targetShape: [1, 1, 6] }).apply(L.globalAveragePooling2d({}).apply(b));
    const ys = [
      L.add().apply([a, b]),
      L.multiply().apply([a, g]),
      L.add().apply([g, b]),
      L.average().apply([a, b, x]),
      L.maximum().apply([a, b]),
      L.minimum().apply([a, b]),
    ];
    return tf.model({ inputs: x, outputs: L.concatenate({ axis: -1 }).apply(ys) });
  },
  concat_axis1: () => {
    const x = input([3, 4, 2]);
    const a = L.conv2d({ filters: 2, kernelSize: 1 }).apply(x);
    return tf.model({ inputs: x, outputs: L.concatenate({ axis: 1 }).apply([x, a]) });
  },
  reshape_flatten_permute: () => seq([4, 6, 2], [
    L.permute({ dims: [2, 1, 3] }),
    L.reshape({ targetShape: [6, 8] }),
    L.permute({ dims: [2, 1] }),
    L.flatten(),
    L.dense({ units: 3 }),
    L.repeatVector({ n: 2 }),
  ]),
  squeeze_excite: () => {
    const x = input([6, 6, 8]);
    const h = L.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "swish" }).apply(x);
    let s = L.globalAveragePooling2d({}).apply(h);
    s = L.reshape({ targetShape: [1, 1, 8] }).apply(s);
    s = L.conv2d({ filters: 2, kernelSize: 1, activation: "swish" }).apply(s);
    s = L.conv2d({ filters: 8, kernelSize: 1, activation: "sigmoid" }).apply(s);
    const y = L.multiply().apply([h, s]);
    return tf.model({ inputs: x, outputs: L.conv2d({ filters: 4, kernelSize: 1 }).apply(y) });
  },
  rescaling: () => seq([5, 5, 3], [
    L.rescaling({ scale: 1 / 127.5, offset: -1 }),
    L.conv2d({ filters: 2, kernelSize: 3 }),
  ]),
  mini_xception: () => {
    const x = input([16, 16, 1]);
    let h = L.conv2d({ filters: 8, kernelSize: 3, useBias: false }).apply(x);
    h = L.batchNormalization({}).apply(h);
    h = L.activation({ activation: "relu" }).apply(h);
    let r = L.conv2d({ filters: 16, kernelSize: 1, strides: 2, padding: "same", useBias: false }).apply(h);
    r = L.batchNormalization({}).apply(r);
    let m = L.separableConv2d({ filters: 16, kernelSize: 3, padding: "same", useBias: false }).apply(h);
    m = L.batchNormalization({}).apply(m);
    m = L.activation({ activation: "relu" }).apply(m);
    m = L.maxPooling2d({ poolSize: 3, strides: 2, padding: "same" }).apply(m);
    h = L.add().apply([m, r]);
    h = L.conv2d({ filters: 5, kernelSize: 3, padding: "same" }).apply(h);
    h = L.globalAveragePooling2d({}).apply(h);
    return tf.model({ inputs: x, outputs: L.activation({ activation: "softmax" }).apply(h) });
  },
};
const inputRange = { rescaling: [0, 255] };

// These are TF.js models, so tfjs's own behaviour is the reference even where it differs from
// Keras: UpSampling2D(interpolation="bilinear") samples on tfjs's corner grid (resizeBilinear
// without half-pixel centres), and the engine runs tfjs-format graphs that way.
function randomInput(model, r, range = [-1, 1]) {
  const shape = [1, ...model.inputs[0].shape.slice(1)];
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = r.uniform(range[0], range[1]);
  return tf.tensor(data, shape);
}

let seed = 1;
for (const [name, build] of Object.entries(models)) {
  const dir = path.join(outDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const r = rng(seed++ * 7919);
  const model = build();
  randomizeWeights(model, r);
  const x = randomInput(model, r, inputRange[name]);
  const y = model.predict(x);
  await saveModel(model, dir);
  await reloadAndCheck(dir, x, y);
  writeNpy(path.join(dir, "input.npy"), x);
  writeNpy(path.join(dir, "output.npy"), y);
  const absMax = Math.max(...Array.from(y.dataSync(), Math.abs));
  console.log(`${name}: output ${JSON.stringify(y.shape)}, max|y| ${absMax.toPrecision(4)}`);
}

// ---- image resizing: tf.image.resizeBilinear with half-pixel centres on random pixels ----
{
  const r = rng(4242);
  const dir = path.join(outDir, "resize_bilinear");
  fs.mkdirSync(dir, { recursive: true });
  const pixels = tf.tensor(Float32Array.from({ length: 7 * 11 * 3 }, () => Math.floor(r() * 256)), [7, 11, 3]);
  writeNpy(path.join(dir, "input.npy"), pixels);
  // Down in one axis, up in the other; then up in both.
  writeNpy(path.join(dir, "output_5x16.npy"), tf.image.resizeBilinear(pixels, [5, 16], false, true));
  writeNpy(path.join(dir, "output_15x23.npy"), tf.image.resizeBilinear(pixels, [15, 23], false, true));
}

// ---- corpus: face_classification .h5 → tfjs (h5wasm), run on the sample photos ----
await h5wasm.ready;

function attrString(v) {
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (Array.isArray(v)) return v.map(attrString);
  if (ArrayBuffer.isView(v) && v.length === 0) return []; // an empty weight_names list
  return String(v);
}

async function loadKerasH5(file) {
  const f = new h5wasm.File(file, "r");
  const config = JSON.parse(attrString(f.attrs.model_config.value));
  const model = await tf.models.modelFromJSON({ modelTopology: config });
  const weights = f.get("model_weights");
  for (const layer of model.layers) {
    const group = weights.get(layer.name);
    if (!group || !group.attrs.weight_names) continue;
    let names = attrString(group.attrs.weight_names.value);
    if (!Array.isArray(names)) names = [names];
    if (!names.length) continue;
    const values = names.map((n) => {
      const d = group.get(n);
      return tf.tensor(Float32Array.from(d.value), d.shape);
    });
    layer.setWeights(values);
    values.forEach((v) => v.dispose());
  }
  f.close();
  return model;
}

// ImageMagick decodes and resizes (a triangle filter widened when shrinking, like PIL's
// bilinear); grayscale is BT.601 luminance as in PIL, OpenCV and Offshoot.
function photoInput(photo, h, w) {
  const raw = execFileSync("/usr/bin/convert", [photo, "-filter", "Triangle", "-resize", `${w}x${h}!`,
    "-depth", "8", "rgb:-"]);
  if (raw.length !== h * w * 3) throw new Error(`${photo}: ImageMagick gave ${raw.length} bytes`);
  const data = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) {
    const v = 0.299 * raw[3 * i] + 0.587 * raw[3 * i + 1] + 0.114 * raw[3 * i + 2];
    data[i] = (v / 255 - 0.5) * 2;
  }
  return tf.tensor(data, [1, h, w, 1]);
}

const faceDir = path.join(corpusDir, "keras2", "face_classification");
const faces = [
  ["fer2013_mini_XCEPTION.102-0.66.hdf5", "emotion_classification.jpg"],
  ["fer2013_big_XCEPTION.54-0.66.hdf5", "12_angry_men.jpg"],
  ["gender_mini_XCEPTION.21-0.95.hdf5", "test_image.jpg"],
  ["tiny_XCEPTION_KDEF.hdf5", "emotion_classification.jpg"],
];
for (const [modelFile, photo] of faces) {
  const file = path.join(faceDir, modelFile);
  if (!fs.existsSync(file)) {
    console.log(`skipping ${modelFile}: not in the corpus`);
    continue;
  }
  const model = await loadKerasH5(file);
  const [, h, w] = model.inputs[0].shape;
  const x = photoInput(path.join(faceDir, photo), h, w);
  const y = model.predict(x);
  const name = "face_" + modelFile.split(".")[0];
  const dir = path.join(outDir, name);
  fs.mkdirSync(dir, { recursive: true });
  writeNpy(path.join(dir, "input.npy"), x);
  writeNpy(path.join(dir, "output.npy"), y);
  const p = Array.from(y.dataSync());
  const order = p.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]);
  const top = { model: `keras2/face_classification/${modelFile}`, photo: `keras2/face_classification/${photo}`,
    top: order.slice(0, 3).map(([v, i]) => ({ index: i, p: v })) };
  fs.writeFileSync(path.join(dir, "top.json"), JSON.stringify(top, null, 1) + "\n");
  console.log(`${name} on ${photo}: top ${JSON.stringify(top.top)}`);
}
