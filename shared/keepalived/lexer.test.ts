import { describe, expect, it } from 'vitest';
import type { Diagnostic } from './diagnostics.ts';
import { lexText, resolveInclude, splitLine, type FileSource } from './lexer.ts';

const words = (line: string) => splitLine(line, 'f', 1)?.map((t) => (t.quoted ? `"${t.text}"` : t.text));

describe('keepalived lexer', () => {
  it('splits words, braces and quoted values; # and ! start comments outside quotes', () => {
    expect(words('virtual_server 10.0.0.1 80 {')).toEqual(['virtual_server', '10.0.0.1', '80', '{']);
    expect(words('global_defs{router_id x}')).toEqual(['global_defs', '{', 'router_id', 'x', '}']);
    expect(words('script "</dev/tcp/127.0.0.1/80 # not a comment" # a comment')).toEqual(['script', '"</dev/tcp/127.0.0.1/80 # not a comment"']);
    expect(words('priority 100 ! the master')).toEqual(['priority', '100']);
    expect(words('priority 100#glued comment')).toEqual(['priority', '100']);
    expect(words('\t  ')).toEqual([]);
    expect(words('interface eth0\u3000# full-width space before the comment')).toEqual(['interface', 'eth0']);
    expect(splitLine('script "open', 'f', 1)).toBeNull();
  });

  it('numbers lines from 1 and reports an open quote with its line', () => {
    const diags: Diagnostic[] = [];
    const lines = lexText('\uFEFFa 1\n\n# c\nb "x\nc {\n', 'k.conf', null, diags);
    expect(lines.map((l) => [l.line, l.tokens.map((t) => t.text)])).toEqual([
      [1, ['a', '1']],
      [5, ['c', '{']],
    ]);
    expect(diags).toEqual([{ severity: 'error', file: 'k.conf', line: 4, message: 'unterminated quoted string' }]);
  });

  it('splices includes in place, globbed relative to the including file', () => {
    const files: Record<string, string> = {
      '/etc/k/main.conf': 'a 1\ninclude conf.d/*.conf\nz 9\n',
      '/etc/k/conf.d/1.conf': 'b 2\n',
      '/etc/k/conf.d/2.conf': 'c 3\ninclude /etc/k/abs.inc\n',
      '/etc/k/abs.inc': 'd 4\n',
    };
    const src: FileSource = {
      read: (p) => {
        if (!(p in files)) throw new Error('ENOENT');
        return files[p];
      },
      glob: (pat) =>
        Object.keys(files)
          .filter((f) => f.startsWith(pat.replace('*.conf', '')) && f.endsWith('.conf'))
          .sort(),
    };
    const diags: Diagnostic[] = [];
    const lines = lexText(files['/etc/k/main.conf'], '/etc/k/main.conf', src, diags);
    expect(lines.map((l) => `${l.file}:${l.line} ${l.tokens[0].text}`)).toEqual([
      '/etc/k/main.conf:1 a',
      '/etc/k/conf.d/1.conf:1 b',
      '/etc/k/conf.d/2.conf:1 c',
      '/etc/k/abs.inc:1 d',
      '/etc/k/main.conf:3 z',
    ]);
    expect(diags).toEqual([]);
  });

  it('resolves include paths like keepalived', () => {
    expect(resolveInclude('/abs/x.conf', '/etc/keepalived/keepalived.conf')).toBe('/abs/x.conf');
    expect(resolveInclude('conf.d/*.conf', '/etc/keepalived/keepalived.conf')).toBe('/etc/keepalived/conf.d/*.conf');
    expect(resolveInclude('x.conf', 'keepalived.conf')).toBe('x.conf');
  });

  it('applies $NAME=value definitions and refuses @conditional lines', () => {
    const diags: Diagnostic[] = [];
    const text = '$IF=eth1\n$VRID= 42\nvrrp_instance V {\n interface $IF\n virtual_router_id ${VRID}\n notify "/x.sh $1"\n}\n@dr1 priority 100\n';
    const lines = lexText(text, 'k.conf', null, diags);
    expect(lines.map((l) => l.tokens.map((t) => t.text).join(' '))).toEqual([
      'vrrp_instance V {',
      'interface eth1',
      'virtual_router_id 42',
      'notify /x.sh $1',
      '}',
    ]);
    expect(diags).toEqual([
      { severity: 'error', file: 'k.conf', line: 8, message: 'conditional configuration lines (@name …) are not supported: give each director its own file' },
    ]);
  });
});
