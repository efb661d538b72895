// Runs a TF.js layers model (as Offshoot exports it) in tfjs, the independent reference, on a
// float32 .npy input and writes one OUT_DIR/<output layer>.npy per model output — the same
// names `offshoot run --save-outputs` uses — so a test can compare the two.
//
//   node tools/reference/edit-tfjs-run.mjs MODEL.json INPUT.npy OUT_DIR
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { modelFilesHandler, readNpy, writeNpy } from "./tfjs-common.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const require = createRequire(path.join(root, "tests", "reference", "package.json"));
const tf = require("@tensorflow/tfjs");
await tf.setBackend("cpu");

const [modelPath, inputPath, outDir] = process.argv.slice(2);
if (!outDir) throw new Error("usage: edit-tfjs-run.mjs MODEL.json INPUT.npy OUT_DIR");

const model = await tf.loadLayersModel(modelFilesHandler(modelPath));
const input = readNpy(inputPath);
let outputs = model.predict(tf.tensor(input.data, input.shape));
if (!Array.isArray(outputs)) outputs = [outputs];
fs.mkdirSync(outDir, { recursive: true });
model.outputLayers.forEach((layer, i) =>
  writeNpy(path.join(outDir, `${layer.name}.npy`), outputs[i].shape, outputs[i].dataSync()));
console.log(model.outputLayers.map((l, i) => `${l.name} ${JSON.stringify(outputs[i].shape)}`).join("\n"));
