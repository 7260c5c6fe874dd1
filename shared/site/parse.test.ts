import { describe, expect, it, vi } from 'vitest';
import { Lexer } from 'yaml';
import { parseSite, parseSiteSource, parseSpecText } from './parse.ts';
import { BASE_YAML } from './site.test-support.ts';

/** 1-based line of the first line of BASE_YAML containing `needle` (after `from`, if given). */
function lineOf(text: string, needle: string, from = ''): number {
  const lines = text.split('\n');
  const start = from ? lines.findIndex((l) => l.includes(from)) : 0;
  const i = lines.findIndex((l, k) => k >= start && l.includes(needle));
  if (i < 0) throw new Error(`no line with ${needle}`);
  return i + 1;
}

describe('parseSiteSource', () => {
  it("answers a valid file's value as JSON that parses to the same valid site, and the file's line of a path", () => {
    const r = parseSiteSource(BASE_YAML);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(JSON.parse(r.json())).toEqual((parseSpecText(BASE_YAML) as { value: unknown }).value);
    const fromJson = parseSite(r.json(), { format: 'json' });
    expect(fromJson.ok && fromJson.site).toEqual(r.site);
    expect(r.lineOf('spec.nodes[2].address')).toBe(lineOf(BASE_YAML, 'name: rs1'));
  });

  it("answers parseSite's issues, with lines, for a file that is not valid", () => {
    for (const text of [BASE_YAML.replace('name: rs1,', 'name: rs1,,'), BASE_YAML.replace('role: realserver', 'role: nope')]) {
      const r = parseSiteSource(text);
      expect(r.ok).toBe(false);
      expect(r).toEqual(parseSite(text));
    }
  });
});

describe('parseSite', () => {
  it('accepts the base site as YAML and as JSON', () => {
    expect(parseSite(BASE_YAML).ok).toBe(true);
    const json = JSON.stringify((parseSpecText(BASE_YAML) as { value: unknown }).value, null, 2);
    expect(parseSite(json).ok).toBe(true);
  });

  it('reports a YAML syntax error with its line', () => {
    const text = BASE_YAML.replace('    - { name: rs1, role: realserver, address: 10.99.0.11 }', '    - { name: rs1, role: realserver, address: 10.99.0.11');
    const r = parseSite(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const line = lineOf(text, 'name: rs1');
    expect(r.issues[0].path).toBe('');
    expect(r.issues[0].line).toBeGreaterThanOrEqual(line);
    expect(r.issues[0].line).toBeLessThanOrEqual(line + 1);
    expect(r.issues[0].message).toMatch(new RegExp(`^line ${r.issues[0].line}: `));
  });

  it('reports a bad indentation at the line of the value it continues', () => {
    const text = 'apiVersion: lvsfleet/v1\nkind: Site\nmetadata:\n  name: a\n   bad: 1\nspec: {}\n';
    const r = parseSite(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]).toEqual({ path: '', line: 4, message: 'line 4: Nested mappings are not allowed in compact mappings' });
  });

  it('refuses a key given twice, at the second one', () => {
    const text = BASE_YAML.replace('kind: Site\n', 'kind: Site\nkind: Site\n');
    const r = parseSite(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues).toEqual([{ path: '', line: 3, message: 'line 3: Map keys must be unique' }]);
  });

  it('puts the line of the field on a shape issue', () => {
    const text = BASE_YAML.replace('vrid: 51', 'vrid: 300');
    const r = parseSite(text);
    expect(r.ok ? [] : r.issues).toEqual([{ path: 'spec.vrrp[1].vrid', message: 'Too big: expected number to be <=255', line: lineOf(text, 'vrid: 300') }]);
  });

  it('puts the line of an unknown field on its issue', () => {
    const text = BASE_YAML.replace('      scheduler: sh\n', '      scheduler: sh\n      lb_algo: sh\n');
    const r = parseSite(text);
    expect(r.ok ? [] : r.issues).toEqual([{ path: 'spec.services[1].lb_algo', message: 'unknown field', line: lineOf(text, 'lb_algo') }]);
  });

  it('puts the line of the offending field on a semantic issue', () => {
    const text = BASE_YAML.replace('password: "1111"', 'password: "123456789"');
    const r = parseSite(text);
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'spec.vrrp[0].auth.password', message: 'PASS passwords are at most 8 bytes (RFC 3768 §5.3.10)', line: lineOf(text, '123456789') },
    ]);
  });

  it('puts the line of a reference on a semantic issue deep in a list', () => {
    const text = BASE_YAML.replace('        - { node: rs2, weight: 1 }', '        - { node: rs7, weight: 1 }');
    const r = parseSite(text);
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'spec.services[0].realServers[1].node', message: 'no node named "rs7" in spec.nodes', line: lineOf(text, 'rs7') },
    ]);
  });

  it('gives the line of the enclosing item when the issue names an item', () => {
    const text = BASE_YAML.replace('        - { address: 10.99.0.13, port: 80 }', '        - { port: 80 }');
    const r = parseSite(text);
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'spec.services[0].realServers[2]', message: 'node or address is required', line: lineOf(text, '- { port: 80 }') },
    ]);
  });

  it('falls back to the nearest parent line for a missing field', () => {
    const text = BASE_YAML.replace('      fwmark: 7\n', '');
    const r = parseSite(text);
    const line = lineOf(text, 'name: mail');
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'spec.services[1].vip', message: 'vip is required (or vips, or fwmark)', line },
      { path: 'spec.services[1].port', message: 'port is required (or fwmark)', line },
    ]);
  });

  it('reports JSON syntax errors with their line', () => {
    const r = parseSite('{\n  "apiVersion": "lvsfleet/v1",\n  "kind": "Site"\n  "metadata": {}\n}\n', { format: 'json' });
    expect(r).toMatchObject({ ok: false, kind: 'syntax' });
    if (!r.ok) expect(r.issues[0].line).toBe(4);
  });

  it('an empty document is one root issue', () => {
    expect(parseSite('')).toEqual({
      ok: false,
      kind: 'invalid',
      issues: [{ path: '', message: 'Invalid input: expected object, received null', line: undefined }],
    });
  });

  it('tells a syntax error from an invalid site by kind, not by message', () => {
    expect(parseSite('a: [1,\n')).toMatchObject({ ok: false, kind: 'syntax' });
    expect(parseSite(BASE_YAML.replace('vrid: 51', 'vrid: 300'))).toMatchObject({ ok: false, kind: 'invalid' });
  });

  it('with format json, refuses YAML that is not JSON, with the line when the YAML parser finds one', () => {
    const yamlOnly = parseSite(BASE_YAML, { format: 'json' });
    expect(yamlOnly).toMatchObject({ ok: false, kind: 'syntax' });
    if (!yamlOnly.ok) expect(yamlOnly.issues).toEqual([{ path: '', message: expect.stringMatching(/JSON/) }]);
    // YAML reads a trailing comma; JSON.parse names its position, which gives the line.
    const trailing = parseSite('{\n"apiVersion": "lvsfleet/v1",\n"kind": "Site",\n}', { format: 'json' });
    expect(trailing).toMatchObject({ ok: false, kind: 'syntax', issues: [{ path: '', line: 4, message: expect.stringMatching(/^line 4: /) }] });
    const json = JSON.stringify((parseSpecText(BASE_YAML) as { value: unknown }).value);
    expect(parseSite(json, { format: 'json' }).ok).toBe(true);
  });

  it('refuses nesting deeper than 64 levels at its line, before the parser recurses into it', () => {
    // 100,000 levels would exhaust the stack of the yaml library's composer.
    const flow = parseSpecText(`kind: Site\nspec: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    expect(flow).toEqual({ ok: false, issues: [{ path: '', line: 2, message: 'line 2: nested deeper than 64 levels' }] });
    // Line n opens level n - 1 ("kind" at indent 0 is the first).
    const block = parseSpecText(['kind: Site', ...Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i)}k${i}:`), ''].join('\n'));
    expect(block).toMatchObject({ ok: false, issues: [{ path: '', line: 66, message: 'line 66: nested deeper than 64 levels' }] });
    const inScalars = parseSpecText(`a: "${'['.repeat(1000)}"\nb: |\n${'  x\n'.repeat(3)}c: [[1], {d: 2}]\n`);
    expect(inScalars).toMatchObject({ ok: true, value: { a: '['.repeat(1000), b: 'x\nx\nx\n', c: [[1], { d: 2 }] } });
  });

  it('refuses a second document, at its line', () => {
    const r = parseSpecText('a: 1\n---\nb: 2\n');
    expect(r).toMatchObject({ ok: false, issues: [{ path: '', line: 2, message: expect.stringMatching(/^line 2: Source contains multiple documents/) }] });
  });

  it('with format json, answers what the YAML document would: the site, a key given twice, nesting too deep, lines of issues', () => {
    const value = (parseSpecText(BASE_YAML) as { value: unknown }).value;
    for (const json of [JSON.stringify(value), JSON.stringify(value, null, 2)]) expect(parseSite(json, { format: 'json' })).toEqual(parseSite(json));
    // JSON.parse keeps the last of two equal keys; the YAML parser refuses the second, with its line.
    const twice = '{\n  "apiVersion": "lvsfleet/v1",\n  "kind": "Site",\n  "metadata": {"name": "a", "n\\u0061me": "b"}\n}';
    expect(parseSite(twice, { format: 'json' })).toEqual({
      ok: false,
      kind: 'syntax',
      issues: [{ path: '', line: 4, message: 'line 4: Map keys must be unique' }],
    });
    expect(parseSite(twice, { format: 'json' })).toEqual(parseSite(twice));
    // Brackets, quotes and backslashes inside strings are text, not structure.
    const tricky = twice.replace('"n\\u0061me": "b"', '"x": "}{[\\"\\\\", "y": "a\\"b"');
    expect(JSON.parse(tricky)).toBeTruthy();
    expect(parseSite(tricky, { format: 'json' })).toEqual(parseSite(tricky));
    expect(parseSite(tricky, { format: 'json' })).toMatchObject({ ok: false, kind: 'invalid' });
    // The same key in two objects, and a string value equal to a key, are not duplicates.
    const apart = JSON.stringify({ ...(value as object), x: [{ name: 'a' }, { name: 'a', v: 'name' }] });
    expect(parseSite(apart, { format: 'json' })).toMatchObject({ ok: false, kind: 'invalid', issues: [{ path: 'x', message: 'unknown field' }] });
    const deep = `{"kind": "Site",\n"spec": ${'['.repeat(64)}${']'.repeat(64)}}`;
    expect(parseSite(deep, { format: 'json' })).toEqual({
      ok: false,
      kind: 'syntax',
      issues: [{ path: '', line: 2, message: 'line 2: nested deeper than 64 levels' }],
    });
    expect(parseSite(deep, { format: 'json' })).toEqual(parseSite(deep));
    const fits = `{"kind": "Site",\n"spec": ${'['.repeat(62)}${']'.repeat(62)}}`;
    expect(parseSite(fits, { format: 'json' })).toMatchObject({ ok: false, kind: 'invalid' });
    expect(parseSite(fits)).toMatchObject({ ok: false, kind: 'invalid' });
    // An invalid site: the issues carry the lines the YAML document gives, computed only then.
    const bad = JSON.stringify(value, null, 2).replace('"vrid": 51', '"vrid": 300');
    const r = parseSite(bad, { format: 'json' });
    expect(r).toEqual(parseSite(bad));
    expect(r.ok ? [] : r.issues).toEqual([{ path: 'spec.vrrp[1].vrid', message: 'Too big: expected number to be <=255', line: lineOf(bad, '"vrid": 300') }]);
  });

  it("with format auto, reads a text JSON.parse takes as JSON, without the YAML parser, and anything else as YAML; the answers are the YAML parser's", () => {
    const value = (parseSpecText(BASE_YAML) as { value: unknown }).value;
    const pretty = JSON.stringify(value, null, 2);
    const lex = vi.spyOn(Lexer.prototype, 'lex');
    try {
      for (const json of [JSON.stringify(value), pretty, `\n  ${pretty}\n`]) {
        lex.mockClear();
        expect(parseSite(json, { format: 'auto' })).toEqual(parseSite(json));
        expect(parseSite(json, { format: 'auto' }).ok).toBe(true);
        lex.mockClear();
        parseSite(json, { format: 'auto' });
        expect(lex).not.toHaveBeenCalled();
      }
      // Refusals keep the YAML parser's lines: a key given twice, an invalid field (its document built only then).
      const twice = pretty.replace('"kind": "Site",', '"kind": "Site",\n  "kind": "Site",');
      expect(parseSite(twice, { format: 'auto' })).toEqual(parseSite(twice));
      expect(parseSite(twice, { format: 'auto' })).toMatchObject({
        ok: false,
        kind: 'syntax',
        issues: [{ line: 4, message: 'line 4: Map keys must be unique' }],
      });
      const bad = pretty.replace('"vrid": 51', '"vrid": 300');
      expect(parseSite(bad, { format: 'auto' })).toEqual(parseSite(bad));
      expect(parseSite(bad, { format: 'auto' })).toMatchObject({ ok: false, kind: 'invalid', issues: [{ line: lineOf(bad, '"vrid": 300') }] });
      // Not JSON: YAML, a flow mapping at the top and a syntax error in near-JSON included.
      for (const yaml of [BASE_YAML, `{ apiVersion: lvsfleet/v1, kind: Site }`, pretty.replace('"kind": "Site",', '"kind": "Site",,'), '\ufeff' + pretty]) {
        expect(parseSite(yaml, { format: 'auto' })).toEqual(parseSite(yaml));
      }
    } finally {
      lex.mockRestore();
    }
  });
});
