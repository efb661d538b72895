// Computes ONNX Runtime's outputs (the independent reference) for ONNX models and their inputs.
//   node tools/reference/onnx-ort-reference.mjs DIR      for every DIR/NAME.onnx with
//   DIR/NAME.input.npy, writes DIR/NAME.ort.<output name>.npy (float32, C order).
// Runs with tests/reference/node_modules (onnxruntime-node 1.30, one thread).
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';

const require = createRequire(path.resolve('tests/reference/package.json'));
const ort = require('onnxruntime-node');

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  if (!header.includes("'<f4'")) throw new Error(`${file}: expected float32`);
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + headerLen, buf.byteOffset + buf.length));
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(head, 0);
  head[6] = 1; head[7] = 0; head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(Float32Array.from(data).buffer)]));
}

const dir = process.argv[2];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort()) {
  const name = f.slice(0, -5);
  const inputFile = path.join(dir, `${name}.input.npy`);
  if (!fs.existsSync(inputFile)) continue;
  const session = await ort.InferenceSession.create(path.join(dir, f), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const x = readNpy(inputFile);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
  for (const o of session.outputNames) {
    writeNpy(path.join(dir, `${name}.ort.${o}.npy`), out[o].dims, out[o].data);
    console.log(`${name}: ${o} ${JSON.stringify(out[o].dims)}`);
  }
}
