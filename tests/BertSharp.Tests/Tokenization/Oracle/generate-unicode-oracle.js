// Regenerates unicode-oracle.json: Hugging Face tokenizers' own output for text that exercises every
// boundary of the Unicode tables (UnicodeTables.g.cs), every lowercase mapping and decomposition, mark
// reordering, and random mixtures. UnicodeOracleTests compares BertSharp with it.
//
// Usage: NODE_PATH=/tmp/hftok/node_modules node generate-unicode-oracle.js /path/to/bert-base-uncased/vocab.txt > unicode-oracle.json
const t = require('tokenizers');
const fs = require('fs');
const pkg = require('tokenizers/package.json');

const vocabPath = process.argv[2];
const vocab = {};
fs.readFileSync(vocabPath, 'utf8').split('\n').forEach((tok, i) => { if (i < 30522) vocab[tok.trimEnd()] = i; });

const configs = {
  default: { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true },
  lower_only: { cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: true },
  strip_only: { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: false },
  raw: { cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false },
};
const normalizers = Object.fromEntries(Object.entries(configs).map(([k, v]) => [k, t.bertNormalizer(v)]));
const pre = t.bertPreTokenizer();
const tok = new t.Tokenizer(t.WordPiece.init(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }));
tok.setNormalizer(normalizers.default);
tok.setPreTokenizer(pre);

// Deterministic PRNG (mulberry32) so the fixture only changes when the library does.
let seed = 20240611;
const rand = () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let x = Math.imul(seed ^ (seed >>> 15), 1 | seed); x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x; return ((x ^ (x >>> 14)) >>> 0) / 4294967296; };
const pick = a => a[Math.floor(rand() * a.length)];
const valid = cp => cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
const str = cps => cps.filter(valid).map(c => String.fromCodePoint(c)).join('');

// Pull the tables out of the generated C# so the oracle probes exactly their boundaries.
const tables = fs.readFileSync(__dirname + '/../../../../src/BertSharp/Tokenization/UnicodeTables.g.cs', 'utf8');
function table(name) {
  const m = tables.match(new RegExp(name + ' =>\\s*\\[([^\\]]*)\\]'));
  return m[1].split(',').map(s => s.trim()).filter(s => s.length).map(s => parseInt(s, s.startsWith('0x') || s.startsWith('-0x') ? 16 : 10));
}
const boundaries = new Set();
for (const [name, width] of [['Dropped', 2], ['Punctuation', 2], ['NonspacingMarks', 2], ['CombiningClassRuns', 3]]) {
  const v = table(name);
  for (let i = 0; i < v.length; i += width) [v[i] - 1, v[i], v[i + 1], v[i + 1] + 1].forEach(c => boundaries.add(c));
}
for (const [a, b] of [[0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f], [0x2b740, 0x2b81f], [0x2b820, 0x2b91f], [0x2b920, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f]])
  [a - 1, a, b, b + 1].forEach(c => boundaries.add(c));
[0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x200a, 0x200b, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff, 0xfffd, 0xfffe, 0xffff, 0x11938, 0xe000, 0xf8ff, 0xf0000, 0x10fffd]
  .forEach(c => boundaries.add(c));

const lowerCps = [], decompCps = [], marks = [];
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (!valid(cp)) continue;
  const c = String.fromCodePoint(cp);
  if (t.lowercase().normalizeString(c) !== c) lowerCps.push(cp);
  if (t.nfdNormalizer().normalizeString(c) !== c && !(cp >= 0xac00 && cp <= 0xd7a3)) decompCps.push(cp);
}
const ccc = table('CombiningClassRuns');
for (let i = 0; i < ccc.length; i += 3) for (let c = ccc[i]; c <= ccc[i + 1]; c++) marks.push(c);
const nsm = table('NonspacingMarks');

const texts = [];
const chunk = (cps, n, sep) => { for (let i = 0; i < cps.length; i += n) texts.push(str(cps.slice(i, i + n).flatMap(c => [c, ...sep]))); };
chunk([...boundaries].sort((a, b) => a - b), 12, [0x78]);           // each boundary between 'x's
chunk(lowerCps, 24, []);                                              // every lowercase mapping
chunk(decompCps, 24, [0x20]);                                         // every decomposition
for (let h = 0xac00; h <= 0xd7a3; h += 97) texts.push(str([h, 0x41, h + 1]));
for (let i = 0; i < 300; i++) texts.push(str([0x61, pick(marks), pick(marks), pick(marks), pick(marks), 0x62]));
const soupPool = [...boundaries, ...lowerCps.slice(0, 400), ...decompCps.slice(0, 400), ...marks.slice(0, 200)];
for (let i = 0; i < 300; i++) {
  const cps = [];
  for (let k = 0; k < 30; k++) {
    const r = rand();
    cps.push(r < 0.35 ? 0x61 + Math.floor(rand() * 26) : r < 0.45 ? 0x41 + Math.floor(rand() * 26) : r < 0.55 ? 0x20 : r < 0.6 ? pick(nsm) : pick(soupPool));
  }
  texts.push(str(cps));
}
texts.push('İstanbul İ ǅ ΣΑΣ ß ẞ Ω K Å', 'I\u0307 i\u0307', '\u0130\u0301', 'a\u0301\u0323b', 'a\u0323\u0301b', 'Å\u0323 ḁ\u0301', 'ﬁ ﬂ ﬀ', '𝔥𝔢𝔩𝔩𝔬', 'x\uFFFEy\uFFFFz');

(async () => {
  const cases = [];
  for (const text of texts) {
    const normalized = Object.fromEntries(Object.entries(normalizers).map(([k, n]) => [k, n.normalizeString(text)]));
    const words = pre.preTokenizeString(text).map(([w]) => w);
    const ids = (await tok.encode(text)).getIds();
    cases.push({ text, normalized, words, ids });
  }
  process.stdout.write(JSON.stringify({ source: `tokenizers ${pkg.version}`, configs, cases }));
})();
