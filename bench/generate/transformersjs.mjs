// transformers.js peer for bench:generate: greedy generation of NEW_TOKENS
// tokens from PROMPT_IDS with the local model MODELS/bench/decoder (no
// network), REPS times; prints {"median_ms", "best_ms", "cpu_ms" (node's
// CPU in the median run), "tokens", "ids"} as the last line.
import { createRequire } from 'node:module';

const require = createRequire(process.env.TJS_DIR + '/node_modules/');
const { env, AutoModelForCausalLM, Tensor } = require('@huggingface/transformers');

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = process.env.MODELS;

const ids = JSON.parse(process.env.PROMPT_IDS);
const n = Number(process.env.NEW_TOKENS);
const reps = Number(process.env.REPS || 5);
const model = await AutoModelForCausalLM.from_pretrained('bench/decoder', { dtype: 'fp32', device: 'cpu' });
const inputs = () => ({
  input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
  attention_mask: new Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, ids.length]),
});
await model.generate({ ...inputs(), max_new_tokens: 8, min_new_tokens: 8, do_sample: false });
const runs = [];
let tokens = 0;
let gen = [];
for (let i = 0; i < reps; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await model.generate({ ...inputs(), max_new_tokens: n, min_new_tokens: n, do_sample: false });
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  runs.push({ ms, cpu: (c.user + c.system) / 1000 });
  tokens = out.dims[1] - ids.length;
  gen = Array.from(out.data).slice(ids.length).map(Number);
}
runs.sort((a, b) => a.ms - b.ms);
const mid = runs[Math.floor(runs.length / 2)];
console.log(JSON.stringify({ median_ms: mid.ms, best_ms: runs[0].ms, cpu_ms: mid.cpu, tokens, ids: gen }));
