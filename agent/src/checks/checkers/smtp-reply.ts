/**
 * Splits buffered SMTP input into complete replies (RFC 5321 §4.2: continuation lines are
 * `NNN-text`, the last line is `NNN text`). Returns the codes of complete replies and the rest.
 */
export function takeReplies(buffer: string): { codes: number[]; rest: string } {
  const codes: number[] = [];
  let rest = buffer;
  for (;;) {
    const nl = rest.indexOf('\n');
    if (nl < 0) break;
    const line = rest.slice(0, nl).replace(/\r$/, '');
    rest = rest.slice(nl + 1);
    const m = /^(\d{3})([ -]|$)/.exec(line);
    if (!m) {
      codes.push(-1); // not SMTP
      continue;
    }
    if (m[2] !== '-') codes.push(Number(m[1]));
  }
  return { codes, rest };
}
