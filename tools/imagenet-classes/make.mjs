// Writes resources/imagenet-classes.txt: the 1000 ImageNet-1k class names in class-index order,
// one a line, which `offshoot run` and the window give a 1000-class output when the model names
// none (as keras.applications' decode_predictions does).
//
// The names are data. Their source is the IMAGENET_CLASSES table of the npm package
// @tensorflow-models/mobilenet (Apache-2.0), whose entries list a class's synonyms
// ("tench, Tinca tinca"); the first synonym is kept, so a name holds no comma (the window's
// class-name entry separates names by commas).
//
//   npm pack @tensorflow-models/mobilenet && tar xzf tensorflow-models-mobilenet-*.tgz
//   node tools/imagenet-classes/make.mjs package/dist/imagenet_classes.js resources/imagenet-classes.txt
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";

const [table, out] = process.argv.slice(2);
if (!table || !out) {
  console.error("usage: make.mjs PATH/TO/imagenet_classes.js OUT.txt");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const classes = require(resolve(table)).IMAGENET_CLASSES;
const version = require(resolve(table, "../../package.json")).version;
const lines = [];
for (let i = 0; i < 1000; i++) {
  const name = classes[i].split(",")[0].trim();
  if (!name) throw new Error(`class ${i} has no name`);
  lines.push(name);
}
if (Object.keys(classes).length !== 1000) throw new Error("expected 1000 classes");
const header = [
  "# ImageNet-1k class names, one a line in class-index order (line 1 after this header is class 0).",
  `# Source: IMAGENET_CLASSES of the npm package @tensorflow-models/mobilenet ${version} (Apache-2.0),`,
  "# first synonym of each entry. Made by tools/imagenet-classes/make.mjs.",
];
writeFileSync(out, header.join("\n") + "\n" + lines.join("\n") + "\n");
console.log(`wrote ${out}: ${lines.length} names`);
