// Runs a TF.js layers model (as Offshoot exports it) in tfjs, the independent reference, on a
// float32 .npy input and writes one OUT_DIR/<output layer>.npy per model output — the same
// names `offshoot run --save-outputs` uses — so a test can compare the two.
//
//   node tools/reference/edit-tfjs-run.mjs MODEL.json INPUT.npy OUT_DIR
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const require = createRequire(path.join(root, "tests", "reference", "package.json"));
const tf = require("@tensorflow/tfjs");
await tf.setBackend("cpu");

const [modelPath, inputPath, outDir] = process.argv.slice(2);
if (!outDir) throw new Error("usage: edit-tfjs-run.mjs MODEL.json INPUT.npy OUT_DIR");

function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString("latin1", 0, 6) !== "\x93NUMPY") throw new Error(`${file}: not a .npy file`);
  const major = b[6];
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString("latin1", start, start + headerLen);
  if (!header.includes("'<f4'") || header.includes("'fortran_order': True"))
    throw new Error(`${file}: expected float32 in C order, got ${header}`);
  const shape = /'shape': \(([^)]*)\)/.exec(header)[1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + start + headerLen, b.byteOffset + b.length));
  return tf.tensor(data, shape);
}

function writeNpy(file, t) {
  const dims = t.shape.length === 1 ? `${t.shape[0]},` : t.shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  header += " ".repeat(Math.ceil((11 + header.length) / 64) * 64 - 11 - header.length) + "\n";
  const data = Buffer.from(new Float32Array(t.dataSync()).buffer);
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, "latin1"), data]));
}

const json = JSON.parse(fs.readFileSync(modelPath, "utf8"));
const shards = json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(path.dirname(modelPath), p)));
const bin = Buffer.concat(shards);
const model = await tf.loadLayersModel({
  load: async () => ({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }),
});
let outputs = model.predict(readNpy(inputPath));
if (!Array.isArray(outputs)) outputs = [outputs];
fs.mkdirSync(outDir, { recursive: true });
model.outputLayers.forEach((layer, i) => writeNpy(path.join(outDir, `${layer.name}.npy`), outputs[i]));
console.log(model.outputLayers.map((l, i) => `${l.name} ${JSON.stringify(outputs[i].shape)}`).join("\n"));
