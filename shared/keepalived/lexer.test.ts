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

  it('applies $NAME=value definitions', () => {
    const diags: Diagnostic[] = [];
    const text = '$IF=eth1\n$VRID= 42\nvrrp_instance V {\n interface $IF\n virtual_router_id ${VRID}\n notify "/x.sh $1"\n}\n';
    const lines = lexText(text, 'k.conf', null, diags);
    expect(lines.map((l) => l.tokens.map((t) => t.text).join(' '))).toEqual([
      'vrrp_instance V {',
      'interface eth1',
      'virtual_router_id 42',
      'notify /x.sh $1',
      '}',
    ]);
    expect(diags).toEqual([]);
  });

  // keepalived lib/parser.c: `@ID line` is read when the config id is ID, `@^ID line` when it is not.
  const CONDITIONAL = 'a 1\n@dr1 priority 100\n  @dr2 priority 90\n@^dr1 state BACKUP\n@dr1\n$P=7\n@dr1 weight $P\n';
  const read = (configId: string) => {
    const diags: Diagnostic[] = [];
    const lines = lexText(CONDITIONAL, 'k.conf', null, diags, 0, ['k.conf'], { defs: new Map(), configId });
    return { lines: lines.map((l) => `${l.line}: ${l.tokens.map((t) => t.text).join(' ')}`), diags };
  };

  it('keeps the @conditional lines of the config id, like keepalived -i', () => {
    expect(read('dr1')).toEqual({ lines: ['1: a 1', '2: priority 100', '7: weight 7'], diags: [] });
    expect(read('dr2')).toEqual({ lines: ['1: a 1', '3: priority 90', '4: state BACKUP'], diags: [] });
  });

  it('asks for --config-id rather than guess which @conditional lines keepalived reads', () => {
    const diags: Diagnostic[] = [];
    lexText('a 1\n@dr1 priority 100\n', 'k.conf', null, diags);
    expect(diags).toEqual([
      {
        severity: 'error',
        file: 'k.conf',
        line: 2,
        message: 'conditional line @dr1: keepalived picks these lines by its config id (-i, by default the host name); pass --config-id ID',
      },
    ]);
  });
});
