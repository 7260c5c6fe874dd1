/**
 * The file system as a keepalived FileSource: keepalived's `include` takes glob patterns
 * (`include /etc/keepalived/conf.d/*.conf`); `*`, `?` and `[…]` are expanded per path segment.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { FileSource } from '#shared/keepalived/lexer.ts';

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${seg
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Expands an absolute or cwd-relative glob; sorted, files only (as glob(3) in keepalived). */
export function globFiles(pattern: string): string[] {
  const absolute = pattern.startsWith('/');
  let paths = [absolute ? '/' : '.'];
  const segs = pattern.split('/').filter((s) => s !== '');
  for (const seg of segs) {
    const next: string[] = [];
    for (const base of paths) {
      const join = (name: string) => (base === '/' ? `/${name}` : base === '.' && !absolute ? name : `${base}/${name}`);
      if (!/[*?[]/.test(seg)) {
        next.push(join(seg));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base === '' ? '.' : base);
      } catch {
        continue;
      }
      const re = segmentRegex(seg);
      for (const n of names.sort()) if (re.test(n) && !n.startsWith('.')) next.push(join(n));
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

export const fsSource: FileSource = {
  read: (path) => readFileSync(path, 'utf8'),
  glob: globFiles,
};
