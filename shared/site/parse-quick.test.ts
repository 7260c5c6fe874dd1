/**
 * The quick path (js-yaml) against the yaml document: wherever the quick path answers a value, the
 * document parses without an error and gives the same value. Over every YAML file in the project,
 * the scalars where YAML 1.1 and 1.2 or the two libraries could differ, generated sites written in
 * block and flow styles, and random edits of real specs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dump } from 'js-yaml';
import { LineCounter, parseDocument, stringify } from 'yaml';
import { arbSite } from '../keepalived/arb-site.test-support.ts';
import { parseSpecDocument, parseSpecText, quickValue } from './parse.ts';
import { BASE_YAML } from './site.test-support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name.startsWith('.')) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(e.name) ? [path] : [];
  });
}

/** The first offset at or after `at` past white space, line breaks and comments: where a key begins. */
function keyAfter(text: string, at: number): number {
  for (;;) {
    while (at < text.length && ' \t\r\n'.includes(text[at])) at++;
    if (text[at] !== '#') return at;
    while (at < text.length && text[at] !== '\n') at++;
  }
}

/** Where the quick path answers, the document's answer is the same value. Answers whether the quick path answered. */
function agrees(text: string): boolean {
  const quick = quickValue(text);
  if (quick === undefined) return false;
  const doc = parseSpecDocument(text);
  expect(doc.ok ? doc.value : doc.issues, JSON.stringify(text.slice(0, 200))).toStrictEqual(quick);
  return true;
}

describe('the quick path (js-yaml) and the yaml document', () => {
  it('read every YAML file of the project the same', () => {
    const files = [...yamlFiles(join(ROOT, 'examples')), ...yamlFiles(join(ROOT, 'shared')), ...yamlFiles(join(ROOT, 'infra'))];
    expect(files.length).toBeGreaterThan(40);
    const quick = files.filter((f) => agrees(readFileSync(f, 'utf8')));
    // Every one of them is plain YAML the quick path reads.
    expect(files.filter((f) => !quick.includes(f))).toEqual([]);
    // Saved with Windows line ends, the same.
    expect(files.filter((f) => !agrees(readFileSync(f, 'utf8').replace(/\n/g, '\r\n')))).toEqual([]);
  });

  it('read the scalars where YAML versions or libraries differ the same, or leave them to the document', () => {
    const scalars = [
      '0b101',
      '1_000',
      '0o17',
      '0x1F',
      '0X1F',
      '+0x1F',
      '012',
      '+12',
      '-0',
      '-0.0',
      '1.',
      '.5',
      '+.5',
      '1e3',
      '1E+3',
      '12e',
      '9007199254740993',
      '.inf',
      '-.Inf',
      '+.INF',
      '.NaN',
      '.nan',
      '~',
      'null',
      'Null',
      'NULL',
      'nULL',
      'true',
      'True',
      'TRUE',
      'tRUE',
      'yes',
      'no',
      'on',
      'off',
      'y',
      'n',
      '2026-01-01',
      '2026-01-01T10:00:00Z',
      '12:30:00',
      '=',
      '-',
      '- ',
      "'it''s'",
      '"\\x41\\u263A\\N\\_"',
      '"a\\\n  b"',
      '!!str 12',
      '!!int "12"',
      '!!float 1',
      '!!binary aGk=',
      '!!timestamp 2026-01-01',
      '!local x',
      '&a x',
      '*a',
      '@x',
      '`x',
      '%x',
      'a #c',
      'a# b',
      'x: y',
      'http://x/?a=1&b=*',
    ];
    let answered = 0;
    for (const s of scalars) {
      for (const text of [`a: ${s}\n`, `[${s}]\n`, `- ${s}\n`, `{ k: ${s} }\n`]) if (agrees(text)) answered++;
    }
    expect(answered).toBeGreaterThan(scalars.length * 2);
  });

  it('leave aliases, `__proto__`, deep nesting, several documents and complex keys to the document', () => {
    for (const text of [
      'a: &x [1, 2]\nb: *x\n',
      'a: { __proto__: { polluted: 1 } }\n',
      `a: ${'['.repeat(40)}${']'.repeat(40)}\n`,
      'a: 1\n---\nb: 2\n',
      '? [a, b]\n: c\n',
      'a: 1\na: 2\n',
      '',
      // Where the two libraries answer differently (found by the edits below): the document's answer stands.
      'a: !!float 1\n',
      'a: &|[1]\n',
      '{ : x }\n',
      'a: 1e3150\n',
      '{ 1e3150: x }\n',
      'a: 1\rb: 2\n',
      '\n\ufeffa: 1\n',
    ])
      expect(quickValue(text), text).toBeUndefined();
    // The document still reads them as before: an alias within its bound, the rest refused with a line.
    expect(parseSpecText('a: &x [1, 2]\nb: *x\n')).toMatchObject({ ok: true, value: { a: [1, 2], b: [1, 2] } });
    expect(parseSpecText('a: 1\na: 2\n')).toMatchObject({ ok: false, issues: [{ line: 2 }] });
  });

  it('read generated sites the same, written in block and in flow style', () => {
    fc.assert(
      fc.property(arbSite(['eth0', 'eth1'], { ipv6: true }), fc.constantFrom('block', 'flow', 'mixed'), fc.boolean(), (site, style, quoted) => {
        const text = stringify(site, {
          collectionStyle: style === 'mixed' ? 'any' : style,
          defaultStringType: quoted ? 'QUOTE_DOUBLE' : 'PLAIN',
          defaultKeyType: 'PLAIN',
          flowCollectionPadding: style !== 'flow',
        });
        expect(agrees(text)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('read random edits of a real spec the same wherever the quick path takes them', () => {
    const seeds = [BASE_YAML, readFileSync(join(ROOT, 'examples/seeds-lvs-dr.yaml'), 'utf8'), readFileSync(join(ROOT, 'examples/bfd.yaml'), 'utf8')];
    const piece = fc.constantFrom(
      ...[
        ' ',
        '  ',
        '\n',
        '\t',
        ':',
        ': ',
        '- ',
        '-',
        '#',
        '"',
        "'",
        '{',
        '}',
        '[',
        ']',
        ',',
        '|',
        '>',
        '?',
        '!',
        '&',
        '*',
        '%',
        '@',
        '\\',
        '0x',
        '.',
        '~',
        'null',
        'yes',
        '1e3',
      ],
      ...['1e400', '<<', '---', '...', '\r', '\ufeff', '\u2028', '0o7', '.NaN', '1_0', '\\x', '\\u0041', '- - ', '{}', '[]', ': |\n  x', ': >-\n  y'],
    );
    // Also any few characters, printable or not: the edits above reach YAML's syntax, these what was not thought of.
    const text = fc.oneof(piece, fc.string({ maxLength: 3 }), fc.string({ maxLength: 2, unit: 'binary' }));
    const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 3 }), insert: fc.array(text, { maxLength: 3 }) });
    let answered = 0;
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 3 }), (seed, edits) => {
        let text = seed;
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.insert.join('') + text.slice(at + e.cut);
        }
        if (agrees(text)) answered++;
      }),
      { numRuns: 3000 },
    );
    // Most edits still parse (a space, a comment): the comparison was made, not skipped.
    expect(answered).toBeGreaterThan(600);
  });

  it("find the keys given twice that yaml's own check finds (a set per mapping, not a comparison of every pair), at the same lines", () => {
    const seeds = [BASE_YAML, readFileSync(join(ROOT, 'examples/seeds-lvs-dr.yaml'), 'utf8')];
    const again = fc.constantFrom(
      ', name: x',
      ', node: rs1',
      ', port: 81',
      '\nkind: Site\n',
      '\n  nodes: []\n',
      ', 1: a, 1.0: b',
      ', ~: a, null: b',
      ', "a": 1, a: 2',
      ', 0: a, -0: b',
      ', 0x10: a, 16: b',
      ', .nan: a, .NaN: b',
      ', [a]: 1, [a]: 2',
    );
    const edit = fc.record({ at: fc.nat(), insert: again });
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 3 }), (seed, edits) => {
        let text = seed;
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.insert + text.slice(at);
        }
        const lineCounter = new LineCounter();
        const errors = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter }).errors;
        const theirs = errors.filter((e) => e.code === 'DUPLICATE_KEY');
        const doc = parseSpecDocument(text);
        const ours = doc.ok ? [] : doc.issues.filter((i) => i.message.endsWith('Map keys must be unique')).map((i) => i.line);
        // yaml places its error where the pair's leading space begins (a line early after a line
        // break); ours is at the key itself, where theirs lands past that space. In a document
        // with other errors, where its recovery puts a pair is its own: the same keys, counted.
        if (errors.length > theirs.length) expect(ours.length).toBe(theirs.length);
        else expect(ours).toEqual(theirs.map((e) => lineCounter.linePos(keyAfter(text, e.pos[0])).line));
      }),
      { numRuns: 1000 },
    );
  });

  it('read any JSON value the same, as either library writes it', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom('block', 'flow', 'js-yaml', 'js-yaml flow', 'json'), (value, how) => {
        const text =
          how === 'block'
            ? stringify(value)
            : how === 'flow'
              ? stringify(value, { collectionStyle: 'flow' })
              : how === 'json'
                ? JSON.stringify(value)
                : dump(value, how === 'js-yaml' ? {} : { flowLevel: 0 });
        agrees(text);
      }),
      { numRuns: 2000 },
    );
  });
});
