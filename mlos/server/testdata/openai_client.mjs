// Drives mlosd's /v1 API with the official OpenAI Node client and prints
// what it got as one JSON object for the Go test to check.
// Env: OPENAI_DIR (where npm installed openai), BASE_URL, CHAT_MODEL, EMBED_MODEL.
import { createRequire } from 'node:module';

const require = createRequire(process.env.OPENAI_DIR + '/node_modules/');
const OpenAI = require('openai');
const client = new OpenAI({ baseURL: process.env.BASE_URL + '/v1', apiKey: 'unused', maxRetries: 0 });
const chat = process.env.CHAT_MODEL, embed = process.env.EMBED_MODEL;
const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello world' }];
const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id);

const c = await client.chat.completions.create({ model: chat, messages, max_tokens: 10, temperature: 0 });
out.chat = { content: c.choices[0].message.content, finish: c.choices[0].finish_reason, usage: c.usage };

const stream = await client.chat.completions.create({
  model: chat, messages, max_completion_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true },
});
let text = '', finish = null, usage = null, chunks = 0;
for await (const ch of stream) {
  chunks++;
  if (ch.usage) usage = ch.usage;
  for (const choice of ch.choices) {
    if (choice.delta?.content) text += choice.delta.content;
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}
out.stream = { content: text, finish, usage, chunks };

const cmpl = await client.completions.create({ model: chat, prompt: 'Hello', max_tokens: 6, temperature: 0.8, seed: 11 });
const cmpl2 = await client.completions.create({ model: chat, prompt: 'Hello', max_tokens: 6, temperature: 0.8, seed: 11 });
out.completion = { text: cmpl.choices[0].text, again: cmpl2.choices[0].text, finish: cmpl.choices[0].finish_reason };

const cstream = await client.completions.create({ model: chat, prompt: 'Hello', max_tokens: 6, temperature: 0, stream: true });
let ctext = '';
for await (const ch of cstream) for (const choice of ch.choices) ctext += choice.text;
out.completionStream = ctext;

// The client asks for base64 by default and decodes it to floats.
const e = await client.embeddings.create({ model: embed, input: ['Hello, world!', 'The movie was great.'] });
out.embeddings = e.data.map((d) => d.embedding.length);
const ef = await client.embeddings.create({ model: embed, input: 'Hello, world!', encoding_format: 'float' });
out.embeddingFloat = ef.data[0].embedding.slice(0, 4);
out.embeddingB64 = e.data[0].embedding.slice(0, 4);

out.errors = {};
for (const [name, call] of Object.entries({
  n2: () => client.chat.completions.create({ model: chat, messages, n: 2 }),
  unknownModel: () => client.chat.completions.create({ model: 'no/such', messages }),
  overCap: () => client.chat.completions.create({ model: chat, messages, max_tokens: 100000 }),
})) {
  try {
    await call();
    out.errors[name] = 'no error';
  } catch (err) {
    out.errors[name] = { status: err.status, message: err.error?.message ?? err.message, param: err.param ?? null, code: err.code ?? null, type: err.type ?? null };
  }
}
console.log(JSON.stringify(out));
