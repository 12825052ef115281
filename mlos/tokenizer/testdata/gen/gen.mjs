// Generates the tokenizer.json files and the reference encodings under
// mlos/tokenizer/testdata with Hugging Face tokenizers (the Rust library,
// through its Node bindings). See ../README.md.
import { createRequire } from 'node:module'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import zlib from 'node:zlib'

const require = createRequire(import.meta.url)
const tk = require('tokenizers')
const version = require('tokenizers/package.json').version

const here = path.dirname(fileURLToPath(import.meta.url))
const outDir = path.resolve(here, '..')
const trainFile = path.join(here, 'train.txt')
const corpus = JSON.parse(fs.readFileSync(path.join(here, 'corpus.json'), 'utf8'))
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokgen-'))

// train runs the model's default trainer over train.txt and returns the
// tokenizer.json object.
function train(model, { normalizer, pre } = {}) {
  const t = new tk.Tokenizer(model)
  if (normalizer) t.setNormalizer(normalizer)
  if (pre) t.setPreTokenizer(pre)
  t.train([trainFile])
  const f = path.join(tmp, 'trained.json')
  t.save(f)
  return JSON.parse(fs.readFileSync(f, 'utf8'))
}

const added = (id, content, o = {}) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: !o.special, special: false, ...o,
})

const bytes = () => Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)

// byte-level alphabet: every byte's stand-in char
const byteChars = tk.byteLevelAlphabet()

function wordpieceVocab(trained, specials) {
  const vocab = {}
  specials.forEach((s, i) => { vocab[s] = i })
  for (const [tok] of Object.entries(trained.model.vocab).sort((a, b) => a[1] - b[1])) {
    if (!(tok in vocab)) vocab[tok] = Object.keys(vocab).length
  }
  return vocab
}

function bpeVocab(trained, head, { allBytes = false, byteTokens = false } = {}) {
  const vocab = {}
  for (const s of head) vocab[s] = Object.keys(vocab).length
  if (byteTokens) for (const s of bytes()) vocab[s] = Object.keys(vocab).length
  if (allBytes) for (const c of byteChars) if (!(c in vocab)) vocab[c] = Object.keys(vocab).length
  for (const [tok] of Object.entries(trained.model.vocab).sort((a, b) => a[1] - b[1])) {
    if (!(tok in vocab)) vocab[tok] = Object.keys(vocab).length
  }
  return vocab
}

const tokenizers = []

// 1. BERT uncased: WordPiece, BertNormalizer, BertPreTokenizer, template post-processor.
{
  const trained = train(tk.WordPiece.empty(), { normalizer: tk.bertNormalizer({ lowercase: true }), pre: tk.bertPreTokenizer() })
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
  const vocab = wordpieceVocab(trained, specials)
  for (const w of ['machine', 'learning']) if (!(w in vocab)) vocab[w] = Object.keys(vocab).length
  tokenizers.push({
    name: 'bert-uncased',
    specials, addedWords: ['machine learning', 'tokenizer'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [
        ...specials.map((s, i) => added(i, s, { special: true, normalized: false })),
        added(Object.keys(vocab).length, 'machine learning'),
        added(Object.keys(vocab).length + 1, 'tokenizer', { single_word: true }),
      ],
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
        special_tokens: {
          '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
          '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
        },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    },
  })

  // 2. BERT cased with BertProcessing, accents kept, truncation and padding in the file.
  const vocab2 = { ...vocab }
  tokenizers.push({
    name: 'bert-cased',
    specials, addedWords: ['[NEW]', 'Café'],
    json: {
      version: '1.0',
      truncation: { direction: 'Right', max_length: 24, strategy: 'LongestFirst', stride: 0 },
      padding: { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: 8, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' },
      added_tokens: [
        ...specials.map((s, i) => added(i, s, { special: true, normalized: false })),
        added(Object.keys(vocab2).length, '[NEW]', { lstrip: true, rstrip: true, normalized: false }),
        added(Object.keys(vocab2).length + 1, 'Café', { normalized: true }),
      ],
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: false, strip_accents: false, lowercase: false },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 20, vocab: vocab2 },
    },
  })

  // 3. WordPiece with a Sequence normalizer and pre-tokenizer mix.
  tokenizers.push({
    name: 'wordpiece-mix',
    specials, addedWords: ['foo', 'bar'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [
        ...specials.map((s, i) => added(i, s, { special: true, normalized: false })),
        added(Object.keys(vocab).length, 'foo', { lstrip: true }),
        added(Object.keys(vocab).length + 1, 'bar', { rstrip: true, single_word: true }),
      ],
      normalizer: {
        type: 'Sequence', normalizers: [
          { type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' },
          { type: 'Replace', pattern: { String: '-' }, content: ' - ' }, { type: 'Strip', strip_left: true, strip_right: true },
        ],
      },
      pre_tokenizer: {
        type: 'Sequence', pretokenizers: [
          { type: 'WhitespaceSplit' },
          { type: 'Split', pattern: { Regex: '\\d+' }, behavior: 'MergedWithNext', invert: false },
          { type: 'Punctuation', behavior: 'MergedWithPrevious' },
          { type: 'Digits', individual_digits: true },
        ],
      },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[CLS]', type_id: 2 } }],
        special_tokens: {
          '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
          '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
        },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    },
  })

  // 4. WordPiece with Whitespace pre-tokenizer and no post-processor.
  tokenizers.push({
    name: 'wordpiece-whitespace',
    specials, addedWords: ['zz', 'yy'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: specials.map((s, i) => added(i, s, { special: true, normalized: false })),
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Lowercase' }] },
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    },
  })
}

// 5-7. Byte-level BPE: GPT-2, RoBERTa, and a Llama-3 style split regex.
{
  const trained = train(tk.BPE.empty(), { pre: tk.byteLevelPreTokenizer(false, true) })
  const merges = trained.model.merges
  const gptVocab = bpeVocab(trained, ['<|endoftext|>'], { allBytes: true })
  tokenizers.push({
    name: 'gpt2-bpe',
    specials: ['<|endoftext|>'], addedWords: [' model', 'Tokenizers'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [
        added(0, '<|endoftext|>', { special: true, normalized: false }),
        added(Object.keys(gptVocab).length, ' model', { normalized: false }),
        added(Object.keys(gptVocab).length + 1, 'Tokenizers', { normalized: true, single_word: true }),
      ],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: gptVocab, merges },
    },
  })
  const robSpecials = ['<s>', '<pad>', '</s>', '<unk>', '<mask>']
  const robVocab = bpeVocab(trained, robSpecials, { allBytes: true })
  tokenizers.push({
    name: 'roberta-bpe',
    specials: robSpecials, addedWords: ['<mask>', 'the'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: robSpecials.map((s, i) => added(i, s, { special: true, normalized: false, lstrip: s === '<mask>' })),
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab: robVocab, merges },
    },
  })
  const l3Specials = ['<|begin_of_text|>', '<|end_of_text|>']
  const l3Vocab = bpeVocab(trained, [], { allBytes: true })
  const base = Object.keys(l3Vocab).length
  // a whole word that merges cannot reach, so ignore_merges matters
  l3Vocab['Ġsupercalifragilisticexpialidocious'] = base
  l3Vocab.supercalifragilisticexpialidocious = base + 4
  tokenizers.push({
    name: 'llama3-bpe',
    specials: l3Specials, addedWords: ['<|reserved|>', ' World'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [
        added(base + 1, '<|begin_of_text|>', { special: true, normalized: false }),
        added(base + 2, '<|end_of_text|>', { special: true, normalized: false }),
        added(base + 3, '<|reserved|>', { special: true, normalized: false }),
      ],
      normalizer: null,
      pre_tokenizer: {
        type: 'Sequence', pretokenizers: [
          { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
        ],
      },
      post_processor: {
        type: 'Sequence', processors: [
          { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
          {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
            special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [base + 1], tokens: ['<|begin_of_text|>'] } },
          },
        ],
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab: l3Vocab, merges },
    },
  })
}

// 8. Llama-2 / SentencePiece style BPE with byte fallback.
{
  const trained = train(tk.BPE.empty(), { pre: tk.metaspacePreTokenizer('▁', 'always', true) })
  const specials = ['<unk>', '<s>', '</s>']
  const vocab = bpeVocab(trained, specials, { byteTokens: true })
  tokenizers.push({
    name: 'llama-bpe-bytefallback',
    specials, addedWords: ['<pad>', 'ing'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [
        ...specials.map((s, i) => added(i, s, { special: true, normalized: false })),
        added(Object.keys(vocab).length, '<pad>', { special: true, normalized: false }),
      ],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
      },
      decoder: {
        type: 'Sequence', decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: trained.model.merges },
    },
  })
}

// 9. BPE with an end-of-word suffix and a subword prefix (CLIP / old OpenAI GPT style).
{
  const trained = train(tk.BPE.empty(), { normalizer: tk.lowercase(), pre: tk.whitespacePreTokenizer() })
  // Re-express the trained merges with a "</w>" suffix on word-final symbols
  // is not possible without retraining, so keep plain merges and use the
  // suffix only for single characters: they exist both bare and suffixed.
  const vocab = {}
  for (const s of ['<unk>', '<|startoftext|>', '<|endoftext|>']) vocab[s] = Object.keys(vocab).length
  for (const [tok] of Object.entries(trained.model.vocab).sort((a, b) => a[1] - b[1])) vocab[tok] = Object.keys(vocab).length
  const singles = Object.keys(trained.model.vocab).filter((t) => [...t].length === 1)
  for (const c of singles) vocab[c + '</w>'] = Object.keys(vocab).length
  tokenizers.push({
    name: 'bpe-suffix',
    specials: ['<|startoftext|>', '<|endoftext|>'], addedWords: ['quick brown', 'dog'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: ['<unk>', '<|startoftext|>', '<|endoftext|>'].map((s, i) => added(i, s, { special: true, normalized: false })),
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }] },
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|startoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|endoftext|>', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<|startoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '<|endoftext|>', type_id: 1 } }],
        special_tokens: {
          '<|startoftext|>': { id: '<|startoftext|>', ids: [1], tokens: ['<|startoftext|>'] },
          '<|endoftext|>': { id: '<|endoftext|>', ids: [2], tokens: ['<|endoftext|>'] },
        },
      },
      decoder: { type: 'BPEDecoder', suffix: '</w>' },
      model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: '</w>', fuse_unk: false, byte_fallback: false, vocab, merges: trained.model.merges },
    },
  })
}

// 10-11. Unigram: T5 style and a byte-fallback variant.
{
  const trained = train(tk.Unigram.empty(), { pre: tk.metaspacePreTokenizer('▁', 'always', true) })
  const pieces = trained.model.vocab
  const t5vocab = [['<pad>', 0], ['</s>', 0], ['<unk>', 0], ...pieces]
  tokenizers.push({
    name: 't5-unigram',
    specials: ['<pad>', '</s>', '<unk>'], addedWords: ['<extra_id_0>', 'the'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: [
        added(0, '<pad>', { special: true, normalized: false }),
        added(1, '</s>', { special: true, normalized: false }),
        added(2, '<unk>', { special: true, normalized: false }),
        added(t5vocab.length, '<extra_id_0>', { special: true, normalized: false }),
      ],
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }] },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
      },
      decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      model: { type: 'Unigram', unk_id: 2, vocab: t5vocab, byte_fallback: false },
    },
  })
  const bfVocab = [['<unk>', 0], ['<s>', 0], ['</s>', 0], ...bytes().map((b) => [b, 0]), ...pieces]
  tokenizers.push({
    name: 'unigram-bytefallback',
    specials: ['<unk>', '<s>', '</s>'], addedWords: ['▁machine', 'model'],
    json: {
      version: '1.0', truncation: null, padding: null,
      added_tokens: ['<unk>', '<s>', '</s>'].map((s, i) => added(i, s, { special: true, normalized: false })),
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'NFC' }] },
      pre_tokenizer: {
        type: 'Sequence', pretokenizers: [
          { type: 'Digits', individual_digits: false },
          { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
        ],
      },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        special_tokens: {
          '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] },
          '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
        },
      },
      decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false }] },
      model: { type: 'Unigram', unk_id: 0, vocab: bfVocab, byte_fallback: true },
    },
  })
}

// buildCharsmap writes a SentencePiece precompiled_charsmap: a Darts-clone
// double-array trie over the UTF-8 keys whose leaves point into a blob of
// NUL-terminated replacements.
function buildCharsmap(entries) {
  const enc = new TextEncoder()
  const root = { kids: new Map(), value: -1 }
  const blob = []
  for (const [from, to] of entries) {
    let n = root
    for (const b of enc.encode(from)) {
      if (!n.kids.has(b)) n.kids.set(b, { kids: new Map(), value: -1 })
      n = n.kids.get(b)
    }
    n.value = blob.length
    blob.push(...enc.encode(to), 0)
  }
  const units = [0]
  const used = new Set([0])
  const usedBase = new Set()
  const setUnit = (i, v) => { while (units.length <= i) units.push(0); units[i] = v >>> 0 }
  const queue = [[root, 0]]
  while (queue.length) {
    const [node, idx] = queue.shift()
    const labels = [...node.kids.keys()].sort((a, b) => a - b)
    if (node.value >= 0) labels.push(0)
    if (!labels.length) continue
    let base = 1
    // bases are unique so that no other node can reach these children
    while (usedBase.has(base) || !labels.every((c) => !used.has(base ^ c))) base++
    usedBase.add(base)
    setUnit(idx, units[idx] | ((base ^ idx) << 10))
    for (const c of labels) used.add(base ^ c)
    if (node.value >= 0) setUnit(base, 0x80000000 | node.value)
    for (const [c, kid] of [...node.kids].sort((a, b) => a[0] - b[0])) {
      setUnit(base ^ c, c | (kid.value >= 0 ? 0x100 : 0))
      queue.push([kid, base ^ c])
    }
  }
  // lookups XOR any byte into an index: pad to whole 256-unit blocks
  setUnit((units.length - 1) | 255, 0)
  const out = Buffer.alloc(4 + units.length * 4 + blob.length)
  out.writeUInt32LE(units.length * 4, 0)
  units.forEach((u, i) => out.writeUInt32LE(u, 4 + 4 * i))
  Buffer.from(blob).copy(out, 4 + units.length * 4)
  return out.toString('base64')
}

// 12. Unigram behind a Precompiled (SentencePiece charsmap) normalizer, as in
// T5, ALBERT and XLM-R.
{
  const t5 = tokenizers.find((t) => t.name === 't5-unigram')
  const entries = []
  for (let c = 0; c < 26; c++) {
    entries.push([String.fromCodePoint(0xFF21 + c), String.fromCharCode(65 + c)])
    entries.push([String.fromCodePoint(0xFF41 + c), String.fromCharCode(97 + c)])
  }
  for (let d = 0; d < 10; d++) entries.push([String.fromCodePoint(0xFF10 + d), String(d)])
  entries.push(['ﬁ', 'fi'], ['①', '1'], ['½', '1/2'], ['\u00a0', ' '], ['\u3000', ' '], ['™', 'TM'], ['ℌ', 'H'], ['Ǆ', 'DŽ'],
    ['a\u0301', 'á'], ['e\u0301', 'é'], ['o\u0308', 'ö'], ['ä', 'ae'], ['ä\u0323', 'Q'], ['\u200b', ''], ['－', '-'])
  tokenizers.push({
    name: 'unigram-precompiled',
    specials: t5.specials, addedWords: t5.addedWords,
    json: {
      ...t5.json,
      normalizer: {
        type: 'Sequence', normalizers: [
          { type: 'Precompiled', precompiled_charsmap: buildCharsmap(entries) },
          { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
        ],
      },
    },
  })
}

// 13. WordLevel with the less common normalizers, pre-tokenizers and decoders,
// and padding/truncation settings in the file.
{
  const bert = tokenizers.find((t) => t.name === 'bert-uncased')
  const vocab = {}
  for (const tok of Object.keys(bert.json.model.vocab)) if (!tok.startsWith('##')) vocab[tok] = Object.keys(vocab).length
  tokenizers.push({
    name: 'wordlevel-misc',
    specials: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'], addedWords: ['hello', 'world'],
    json: {
      version: '1.0',
      truncation: { direction: 'Left', max_length: 12, strategy: 'LongestFirst', stride: 0 },
      padding: { strategy: { Fixed: 16 }, direction: 'Left', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 3, pad_token: '[PAD]' },
      added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map((s, i) => added(i, s, { special: true, normalized: false })),
      normalizer: { type: 'Sequence', normalizers: [{ type: 'Nmt' }, { type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Strip', strip_left: false, strip_right: true }] },
      pre_tokenizer: {
        type: 'Sequence', pretokenizers: [
          { type: 'Split', pattern: { String: ' ' }, behavior: 'Removed', invert: false },
          { type: 'CharDelimiterSplit', delimiter: '-' },
          { type: 'Punctuation', behavior: 'Contiguous' },
          { type: 'Split', pattern: { Regex: '[0-9]' }, behavior: 'Isolated', invert: true },
          { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: false },
        ],
      },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: {
          '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
          '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
        },
      },
      decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { Regex: 'o+' }, content: '0' }, { type: 'Strip', content: 'h', start: 1, stop: 0 }, { type: 'Fuse' }] },
      model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
    },
  })
}

// 14. ByteLevel normalizer and FixedLength pre-tokenizer over the GPT-2 model.
{
  const gpt = tokenizers.find((t) => t.name === 'gpt2-bpe')
  tokenizers.push({
    name: 'bytelevel-fixedlength',
    specials: gpt.specials, addedWords: gpt.addedWords,
    json: {
      ...gpt.json,
      normalizer: { type: 'ByteLevel' },
      pre_tokenizer: { type: 'FixedLength', length: 4 },
      post_processor: null,
    },
  })
}

// 15. UnicodeScripts pre-tokenizer (SentencePiece-style script splitting).
{
  const t5 = tokenizers.find((t) => t.name === 't5-unigram')
  tokenizers.push({
    name: 'unigram-scripts',
    specials: t5.specials, addedWords: t5.addedWords,
    json: {
      ...t5.json,
      normalizer: null,
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'UnicodeScripts' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }] },
    },
  })
}

const fill = (text, t) => text
  .replace(/\{special(\d)\}/g, (_, i) => t.specials[Number(i) % t.specials.length])
  .replace(/\{added(\d)\}/g, (_, i) => t.addedWords[Number(i)])

const pairs = [[0, 1], [4, 6], [13, 2], [23, 0], [28, 29], [11, 19]]

// rec records an encoding; brief ones (ids, type ids, masks) keep the files small
// where tokens and offsets repeat what other cases already check.
function rec(e, text, pair, extra = {}, brief = false) {
  const r = {
    text, pair, ...extra,
    ids: e.getIds(), type_ids: e.getTypeIds(), attention_mask: e.getAttentionMask(),
    special_tokens_mask: e.getSpecialTokensMask(),
  }
  if (!brief) Object.assign(r, { tokens: e.getTokens(), offsets: e.getOffsets() })
  return r
}

for (const t of tokenizers) {
  const file = path.join(tmp, `${t.name}.json`)
  // Round-trip through the library so the committed file is in its canonical form.
  const loaded = tk.Tokenizer.fromString(JSON.stringify(t.json))
  loaded.save(file, false)
  fs.writeFileSync(path.join(outDir, `${t.name}.json.gz`), zlib.gzipSync(fs.readFileSync(file), { level: 9 }))
  const tok = tk.Tokenizer.fromFile(file)
  const batches = []
  const batchTexts = corpus.map((c) => fill(c, t)).filter((_, i) => [0, 1, 23, 6, 2].includes(i))
  if (t.json.padding) {
    // the file's own padding (and truncation) for encodeBatch
    const es = await tok.encodeBatch(batchTexts, { addSpecialTokens: true })
    batches.push({ texts: batchTexts, add_special: true, file_padding: true, ids: es.map((e) => e.getIds()), type_ids: es.map((e) => e.getTypeIds()), attention_mask: es.map((e) => e.getAttentionMask()) })
  }
  tok.disablePadding()
  const texts = corpus.map((c) => fill(c, t))
  const cases = []
  for (const add of [true, false]) {
    for (const text of texts) {
      const e = await tok.encode(text, null, { addSpecialTokens: add })
      const r = rec(e, text, null, { add_special: add }, !add)
      if (add) {
        r.decoded = await tok.decode(e.getIds(), false)
        r.decoded_skip = await tok.decode(e.getIds(), true)
      }
      cases.push(r)
    }
  }
  for (const [a, b] of pairs) {
    for (const add of [true, false]) {
      const e = await tok.encode(texts[a], texts[b], { addSpecialTokens: add })
      cases.push(rec(e, texts[a], texts[b], { add_special: add }, !add))
    }
  }
  // Truncation variants (the file's own setting is replaced for these).
  const truncs = [
    { max_length: 8, strategy: 'LongestFirst', direction: 'Right' },
    { max_length: 9, strategy: 'LongestFirst', direction: 'Left' },
    { max_length: 10, strategy: 'OnlyFirst', direction: 'Right' },
    { max_length: 11, strategy: 'OnlySecond', direction: 'Left' },
  ]
  for (const tr of truncs) {
    tok.setTruncation(tr.max_length, { strategy: tr.strategy, direction: tr.direction.toLowerCase() })
    for (const [a, b] of pairs.slice(0, 3)) {
      for (const add of [true, false]) {
        try {
          const e = await tok.encode(texts[a], texts[b], { addSpecialTokens: add })
          cases.push(rec(e, texts[a], texts[b], { add_special: add, truncation: tr }, true))
        } catch (err) {
          // Rust refuses when the chosen sequence is too short; skip those.
        }
        if (tr.strategy === 'OnlySecond') continue
        const e = await tok.encode(texts[a], null, { addSpecialTokens: add })
        cases.push(rec(e, texts[a], null, { add_special: add, truncation: tr }, true))
      }
    }
  }
  tok.disableTruncation()
  const padTok = t.specials.find((s) => /pad/i.test(s)) ?? t.specials[0]
  const padId = tok.tokenToId(padTok)
  tok.setPadding({ padId, padToken: padTok })
  for (const add of [true, false]) {
    const es = await tok.encodeBatch(batchTexts, { addSpecialTokens: add })
    batches.push({ texts: batchTexts, add_special: add, pad_id: padId, pad_token: padTok, ids: es.map((e) => e.getIds()), type_ids: es.map((e) => e.getTypeIds()), attention_mask: es.map((e) => e.getAttentionMask()) })
  }
  const ref = { generator: `tokenizers (npm) ${version}`, tokenizer: `${t.name}.json.gz`, vocab_size: tok.getVocabSize(true), cases, batches }
  const body = ['{',
    `"generator": ${JSON.stringify(ref.generator)},`,
    `"tokenizer": ${JSON.stringify(ref.tokenizer)},`,
    `"vocab_size": ${ref.vocab_size},`,
    '"cases": [', cases.map((c) => JSON.stringify(c)).join(',\n'), '],',
    '"batches": [', batches.map((c) => JSON.stringify(c)).join(',\n'), ']', '}'].join('\n')
  // gzip (fixed header, no name or time) keeps the files small and reproducible
  fs.writeFileSync(path.join(outDir, `${t.name}.ref.json.gz`), zlib.gzipSync(body + '\n', { level: 9 }))
  console.log(`${t.name}: vocab ${tok.getVocabSize(true)}, ${cases.length} cases`)
}
fs.rmSync(tmp, { recursive: true, force: true })
