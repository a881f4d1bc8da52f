// Regenerates src/BertSharp/Tokenization/UnicodeTables.g.cs from the behaviour of Hugging Face's
// `tokenizers` Rust library (the npm binding ships the same compiled code as the Python wheel).
//
// Why tables instead of .NET's CharUnicodeInfo: the Rust BertNormalizer/BertPreTokenizer classify
// characters with the `unicode_categories` crate, whose tables are several Unicode versions older than
// .NET's (hundreds of code points differ: new punctuation, marks, format chars), and its lowercasing is
// Rust's char::to_lowercase, which is newer than .NET's. Reading the classes off the real library is the
// only way to match it everywhere, independent of the .NET runtime's Unicode version.
//
// Usage (needs network access to the npm registry once):
//   mkdir /tmp/hftok && cd /tmp/hftok && npm install tokenizers@0.23.2
//   NODE_PATH=/tmp/hftok/node_modules node generate-unicode-tables.js > ../../../../src/BertSharp/Tokenization/UnicodeTables.g.cs
const t = require('tokenizers');
const pkg = require('tokenizers/package.json');

const clean = t.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
const strip = t.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false });
const lower = t.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: true });
const nfd = t.nfdNormalizer();
const pre = t.bertPreTokenizer();

const drop = [], punct = [], mark = [], cleanSpace = [], lowerSingle = [], lowerMulti = [];
const decompositions = [], combining = [];
const isHangulSyllable = cp => cp >= 0xac00 && cp <= 0xd7a3;
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const c = String.fromCodePoint(cp);
  const cl = clean.normalizeString(c);
  if (cl === '') drop.push(cp);
  else if (cl === ' ' && cp !== 0x20) cleanSpace.push(cp);
  const p = pre.preTokenizeString('a' + c + 'a');
  if (p.length === 3 && p[1][0] === c) punct.push(cp);
  // A mark is only ever seen after NFD, so only NFD-stable code points need a class.
  const d = nfd.normalizeString(c);
  if (d === c && strip.normalizeString(c) === '') mark.push(cp);
  if (d !== c && !isHangulSyllable(cp)) decompositions.push([cp, Array.from(d).map(x => x.codePointAt(0))]);
  // Non-zero canonical combining class: reordered after U+0334 (class 1) or before U+0345 (class 240).
  if (d === c && (nfd.normalizeString('a' + c + '\u0334') === 'a\u0334' + c || nfd.normalizeString('a\u0345' + c) === 'a' + c + '\u0345'
      || cp === 0x334 || cp === 0x345)) combining.push(cp);
  const lo = lower.normalizeString(c);
  if (lo !== c) {
    const cps = Array.from(lo).map(x => x.codePointAt(0));
    if (cps.length === 1) lowerSingle.push([cp, cps[0]]); else lowerMulti.push([cp, cps]);
  }
}

// Canonical combining classes are only compared with each other, so ranks that order the marks the way
// the library's NFD does are as good as the real class numbers (which the library does not expose).
function combiningRanks(marks) {
  const cmp = (x, y) => {
    const a = String.fromCodePoint(x), b = String.fromCodePoint(y);
    if (nfd.normalizeString('a' + a + b) === 'a' + b + a) return 1;
    if (nfd.normalizeString('a' + b + a) === 'a' + a + b) return -1;
    return 0;
  };
  const sorted = [...marks].sort(cmp);
  const rank = new Map();
  let r = 1;
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && cmp(sorted[i - 1], sorted[i]) !== 0) r++;
    rank.set(sorted[i], r);
  }
  if (r > 255) throw new Error('more than 255 combining classes');
  return marks.map(m => [m, rank.get(m)]);
}

function ranges(cps) {
  const out = [];
  for (const c of cps) {
    if (out.length && out[out.length - 1][1] === c - 1) out[out.length - 1][1] = c; else out.push([c, c]);
  }
  return out;
}
// Runs of (start, count, stride, delta): most case pairs come in blocks of +32/+1 with stride 1 or 2.
function lowerRuns(pairs) {
  const runs = [];
  for (const [k, v] of pairs) {
    const d = v - k;
    const r = runs[runs.length - 1];
    if (r) {
      const last = r[0] + (r[1] - 1) * r[2];
      if (r[3] === d && ((r[1] === 1 && (k - last === 1 || k - last === 2)) || (r[1] > 1 && k - last === r[2]))) {
        if (r[1] === 1) r[2] = k - last;
        r[1]++;
        continue;
      }
    }
    runs.push([k, 1, 1, d]);
  }
  return runs;
}
const hex = n => '0x' + n.toString(16).toUpperCase();
function emitRanges(name, doc, rs) {
  const items = rs.map(([a, b]) => `${hex(a)}, ${hex(b)}`);
  const lines = [];
  for (let i = 0; i < items.length; i += 6) lines.push('        ' + items.slice(i, i + 6).join(', ') + ',');
  return `    /// <summary>${doc} Inclusive [first, last] pairs, sorted.</summary>\n    internal static ReadOnlySpan<int> ${name} =>\n    [\n${lines.join('\n')}\n    ];\n`;
}
const runs = lowerRuns(lowerSingle);
const runLines = [];
for (let i = 0; i < runs.length; i += 4) runLines.push('        ' + runs.slice(i, i + 4).map(r => `${hex(r[0])}, ${r[1]}, ${r[2]}, ${r[3]}`).join(',   ') + ',');

const spaceSet = cleanSpace.map(hex).join(', ');
const decompLines = [];
for (let i = 0; i < decompositions.length; i += 4)
  decompLines.push('        ' + decompositions.slice(i, i + 4).map(([k, v]) => [k, v.length, ...v].map(hex).join(', ')).join(',   ') + ',');
// Consecutive code points with the same rank collapse into (first, last, rank) runs.
const cccRuns = [];
for (const [cp, rank] of combiningRanks(combining)) {
  const last = cccRuns[cccRuns.length - 1];
  if (last && last[1] === cp - 1 && last[2] === rank) last[1] = cp; else cccRuns.push([cp, cp, rank]);
}
const cccLines = [];
for (let i = 0; i < cccRuns.length; i += 6)
  cccLines.push('        ' + cccRuns.slice(i, i + 6).map(r => `${hex(r[0])}, ${hex(r[1])}, ${r[2]}`).join(',   ') + ',');
process.stdout.write(`// <auto-generated>
// Generated by tests/BertSharp.Tests/Tokenization/Oracle/generate-unicode-tables.js from Hugging Face
// tokenizers ${pkg.version} (BertNormalizer / BertPreTokenizer as compiled into the library). Do not edit.
// </auto-generated>
namespace BertSharp.Tokenization;

internal static partial class UnicodeTables
{
    internal const string SourceVersion = "tokenizers ${pkg.version}";

    /// <summary>Code points that clean_text turns into ' ' (besides ' ' itself): ${spaceSet}.</summary>
    internal static ReadOnlySpan<int> CleanTextSpaces => [${spaceSet}];

${emitRanges('Dropped', 'Code points clean_text removes (NUL, U+FFFD, and the crate\'s Cc/Cf/Co except tab, LF, CR).', ranges(drop))}
${emitRanges('Punctuation', 'Code points BertPreTokenizer isolates (ASCII punctuation or the crate\'s P* categories).', ranges(punct))}
${emitRanges('NonspacingMarks', 'NFD-stable code points that strip_accents removes (the crate\'s Mn).', ranges(mark))}
    /// <summary>Lowercase mapping of single code points as runs of (first, count, stride, delta).</summary>
    internal static ReadOnlySpan<int> LowercaseRuns =>
    [
${runLines.join('\n')}
    ];

    /// <summary>Full canonical decompositions (Hangul syllables excepted) as (code point, length, parts...).</summary>
    internal static ReadOnlySpan<int> Decompositions =>
    [
${decompLines.join('\n')}
    ];

    /// <summary>Non-zero canonical combining classes as (first, last, rank) runs; ranks order like the classes.</summary>
    internal static ReadOnlySpan<int> CombiningClassRuns =>
    [
${cccLines.join('\n')}
    ];

    /// <summary>Code points whose lowercase is more than one code point: ${lowerMulti.map(([k, v]) => `${hex(k)} -> ${v.map(hex).join(' ')}`).join('; ')}.</summary>
    internal static ReadOnlySpan<int> LowercaseExpanding => [${lowerMulti.map(([k, v]) => [k, v.length, ...v].map(hex).join(', ')).join(', ')}];
}
`);
