// Pieces the tfjs reference scripts share (tools/reference and the tests' tfjs runners).
import fs from "node:fs";
import path from "node:path";

// mulberry32: a seeded generator of numbers in [0, 1), the same on every run.
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Saves a tfjs layers model as DIR/model.json + DIR/weights.bin (one shard), as tfjs's own
// file:// handler would (pure tfjs in node has none).
export async function saveLayersModel(tf, model, dir) {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const json = {
      format: "layers-model",
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.layers}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
    };
    fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
    fs.writeFileSync(path.join(dir, "weights.bin"), Buffer.from(artifacts.weightData));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
}

// A tfjs IOHandler reading model.json and its weight shards from disk (tfjs in node has no
// file:// loader): for tf.loadLayersModel and tf.loadGraphModel alike.
export function modelFilesHandler(modelPath) {
  return {
    async load() {
      const doc = JSON.parse(fs.readFileSync(modelPath, "utf8"));
      const dir = path.dirname(modelPath);
      const specs = [], buffers = [];
      for (const group of doc.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: doc.modelTopology, format: doc.format, generatedBy: doc.generatedBy,
        convertedBy: doc.convertedBy, signature: doc.signature,
        userDefinedMetadata: doc.userDefinedMetadata, weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

// A .npy file of little-endian float32 in C order (numpy's own, format version 1 or 2):
// { shape, data: Float32Array }.
export function readNpy(file) {
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
  return { shape, data };
}

// Writes float32 values of the given shape as a .npy file (version 1, C order).
export function writeNpy(file, shape, data) {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  header += " ".repeat(Math.ceil((11 + header.length) / 64) * 64 - 11 - header.length) + "\n";
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, "latin1"), Buffer.from(new Float32Array(data).buffer)]));
}
