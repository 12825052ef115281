// Writes a reference file for any tokenizer.json, for checking the Go
// implementation against real models without committing them:
//   node xcheck.mjs path/to/tokenizer.json out/dir   (writes out/dir/NAME.json + NAME.ref.json.gz)
//   AXON_TOKENIZER_REFDIR=out/dir go test ./mlos/tokenizer -run TestReference
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import zlib from 'node:zlib'

const require = createRequire(import.meta.url)
const tk = require('tokenizers')
const version = require('tokenizers/package.json').version
const here = path.dirname(fileURLToPath(import.meta.url))
const [src, outDir] = process.argv.slice(2)
const name = path.basename(path.dirname(path.resolve(src))) + '-' + path.basename(src, '.json')
fs.mkdirSync(outDir, { recursive: true })
fs.copyFileSync(src, path.join(outDir, `${name}.json`))
const tok = tk.Tokenizer.fromFile(src)
tok.disablePadding()
const texts = JSON.parse(fs.readFileSync(path.join(here, 'corpus.json'), 'utf8')).filter((s) => !s.includes('{'))
texts.push(fs.readFileSync(path.join(here, 'train.txt'), 'utf8'))
const cases = []
for (const add of [true, false]) {
  for (const text of texts) {
    const e = await tok.encode(text, null, { addSpecialTokens: add })
    cases.push({
      text, pair: null, add_special: add, ids: e.getIds(), type_ids: e.getTypeIds(), attention_mask: e.getAttentionMask(),
      special_tokens_mask: e.getSpecialTokensMask(), tokens: e.getTokens(), offsets: e.getOffsets(),
      decoded: add ? await tok.decode(e.getIds(), false) : undefined,
      decoded_skip: add ? await tok.decode(e.getIds(), true) : undefined,
    })
  }
}
for (let i = 0; i + 1 < texts.length; i += 5) {
  const e = await tok.encode(texts[i], texts[i + 1], { addSpecialTokens: true })
  cases.push({ text: texts[i], pair: texts[i + 1], add_special: true, ids: e.getIds(), type_ids: e.getTypeIds(), attention_mask: e.getAttentionMask(), tokens: e.getTokens(), offsets: e.getOffsets() })
}
const ref = { generator: `tokenizers (npm) ${version}`, tokenizer: `${name}.json`, vocab_size: tok.getVocabSize(true), cases, batches: [] }
fs.writeFileSync(path.join(outDir, `${name}.ref.json.gz`), zlib.gzipSync(JSON.stringify(ref)))
console.log(`${name}: ${cases.length} cases`)
