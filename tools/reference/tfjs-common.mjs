// Pieces the tfjs fixture scripts share.
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
