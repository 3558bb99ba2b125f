// Run the faceres TFJS graph model on raw faces with TensorFlow.js itself (CPU backend), as the
// reference the ONNX conversion is checked against. Needs @tensorflow/tfjs-core, -converter and
// -backend-cpu 4.22.0 on NODE_PATH.
// usage: node faceres.js MODEL_DIR FACES.f32 N OUT.json
const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs-core");
require("@tensorflow/tfjs-backend-cpu");
const converter = require("@tensorflow/tfjs-converter");

const OUTPUTS = ["global_pooling/Mean", "feats/Relu", "gender_pred/Sigmoid", "age_pred/Softmax"];

// Read model.json and its weight files from disk, the way a browser would fetch them.
function fileHandler(dir) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(dir, "faceres.json")));
      const manifest = json.weightsManifest;
      const buffers = manifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
      const data = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: manifest.flatMap((group) => group.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
        format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
      };
    },
  };
}

async function main() {
  const [dir, facesFile, n, outFile] = process.argv.slice(2);
  await tf.setBackend("cpu");
  const model = await converter.loadGraphModel(fileHandler(dir));
  const raw = fs.readFileSync(facesFile);
  const faces = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [Number(n), 224, 224, 3]);
  const results = model.execute(faces, OUTPUTS);
  const out = {};
  OUTPUTS.forEach((name, i) => { out[name] = Array.from(results[i].dataSync()); });
  fs.writeFileSync(outFile, JSON.stringify(out));
}

main();
