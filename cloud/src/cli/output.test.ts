import { describe, expect, it } from 'vitest';
import { render, table } from './output.ts';
import { forTerminal } from './terminal.ts';

describe('forTerminal', () => {
  it.each([
    ['CSI (clear screen, colour)', 'a\x1b[2Jb\x1b[31mc', 'abc'],
    ['OSC window title, ended by BEL and by ST', 'a\x1b]0;owned\x07b\x1b]2;x\x1b\\c', 'abc'],
    ['8-bit CSI and OSC', 'a\x9b31mb\x9d0;t\x9cc', 'abc'],
    ['other controls and DEL', 'a\rb\x08c\x7fd\x00e', 'abcde'],
    ['an unterminated OSC swallows only its own line', 'a\x1b]0;title\nnext', 'a\nnext'],
  ])('removes %s', (_name, text, want) => expect(forTerminal(text)).toBe(want));

  it('keeps newlines, tabs and printable Unicode', () => expect(forTerminal('é\t✓\nλ')).toBe('é\t✓\nλ'));

  it('a table cell never breaks its row; JSON escapes C1 controls and stays lossless', () => {
    expect(table(['A', 'B'], [['x\ny', 'z']])).toBe('A    B\nx y  z\n');
    const out = render('json', { s: 'a\x9bb' }, () => '');
    expect(out).toContain('\\u009b');
    expect(JSON.parse(out)).toEqual({ s: 'a\x9bb' });
  });
});
