// Runs ONNX models in onnxruntime-node for the Go tests of package onnx.
// usage: node run.js JOBS.json
// JOBS.json is a list of {model, input, name, shape, out}: the model file, a file of raw
// little-endian float32 input values of the given shape, fed under the input name. Each job
// writes every output as raw float32 to out + "." + output name, and the program prints one
// JSON line: onnxruntime's version and, per job, each output's dims.
const fs = require('fs');
const ort = require('onnxruntime-node');
const version = require('onnxruntime-node/package.json').version;
(async () => {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const results = [];
  for (const job of jobs) {
    const session = await ort.InferenceSession.create(job.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const buf = fs.readFileSync(job.input);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const outputs = await session.run({ [job.name]: new ort.Tensor('float32', data, job.shape) });
    const dims = {};
    for (const [name, t] of Object.entries(outputs)) {
      fs.writeFileSync(`${job.out}.${name}`, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      dims[name] = t.dims;
    }
    results.push(dims);
  }
  console.log(JSON.stringify({ version, results }));
})().catch((err) => { console.error(err); process.exit(1); });
