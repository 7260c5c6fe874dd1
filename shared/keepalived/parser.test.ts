import { describe, expect, it } from 'vitest';
import { editDistance, suggest } from '../util/did-you-mean.ts';
import { formatDiagnostic } from './diagnostics.ts';
import { parseText, type Stmt } from './parser.ts';

/** A compact picture of the tree: `kw args [children]`. */
function show(stmts: Stmt[]): unknown[] {
  return stmts.map((s) => {
    const head = [s.keyword.text, ...s.args.map((a) => a.text)].join(' ');
    return s.block ? { [head]: show(s.block) } : head;
  });
}

describe('keepalived parser', () => {
  it('takes braces on the same line or the next, and text after a closing brace', () => {
    const r = parseText('global_defs\n{\n  router_id a\n}\nvrrp_instance V { interface eth0\n virtual_ipaddress { 1.2.3.4 } }\nx 1\n');
    expect(r.diagnostics).toEqual([]);
    expect(show(r.statements)).toEqual([
      { global_defs: ['router_id a'] },
      { 'vrrp_instance V': ['interface eth0', { virtual_ipaddress: ['1.2.3.4'] }] },
      'x 1',
    ]);
  });

  it('keeps the line of every keyword and value', () => {
    const r = parseText('a {\n  b 1\n}\n', 'f.conf');
    const b = r.statements[0].block![0];
    expect([b.keyword.line, b.args[0].line, b.keyword.file]).toEqual([2, 2, 'f.conf']);
  });

  it('reports unbalanced braces with the line of the block left open', () => {
    const r = parseText('a {\n  b {\n    c 1\n}\n}\n}\n');
    expect(r.diagnostics.map(formatDiagnostic)).toEqual(['keepalived.conf:6: unexpected "}": no block is open here']);
    const open = parseText('vrrp_instance V {\n  authentication {\n    auth_pass 1\n}\n');
    expect(open.diagnostics.map(formatDiagnostic)).toEqual(['keepalived.conf:1: "vrrp_instance" block is never closed: a "}" is missing']);
  });

  it('reports a brace with no keyword', () => {
    expect(parseText('{\n}\n').diagnostics.map(formatDiagnostic)).toEqual(['keepalived.conf:1: unexpected "{": no keyword before it']);
  });

  it('refuses include without a file source', () => {
    expect(parseText('include x.conf\n').diagnostics.map(formatDiagnostic)).toEqual(['keepalived.conf:1: include is not available here']);
  });
});

describe('suggestions', () => {
  it('finds likely typos and nothing for unrelated words', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(suggest('HTTP[_GET', ['HTTP_GET', 'SSL_GET', 'TCP_CHECK'])).toBe('HTTP_GET');
    expect(suggest('perssisstence_timeout', ['persistence_timeout', 'protocol'])).toBe('persistence_timeout');
    expect(suggest('delay_beefore_retry', ['delay_before_retry', 'retry'])).toBe('delay_before_retry');
    expect(suggest('soory_server', ['sorry_server', 'real_server'])).toBe('sorry_server');
    expect(suggest('lb_algo', ['lb_algo'])).toBe('lb_algo');
    expect(suggest('frobnicate', ['persistence_timeout', 'protocol'])).toBeUndefined();
  });
});
