import { badgeColour, type AnyState } from '#shared/status/model.ts';
import { esc } from './layout.ts';

const FILL = { green: '#1a7f37', yellow: '#a16207', orange: '#b35900', red: '#c62828', grey: '#5f6670' } as const;

/** Width of text in 11 px Verdana, roughly: shields' figures for narrow, wide and average characters. */
function textWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[ilj.,:;|!'I1 ]/.test(ch) ? 3.8 : /[mwMW@%]/.test(ch) ? 10 : /[A-Z]/.test(ch) ? 7.6 : 6.6;
  return Math.round(w);
}

/**
 * A shields-style flat badge: `label | message`, the message on the state's colour. The text is
 * escaped and the SVG has no script, so it is safe to embed anywhere an image goes.
 */
export function renderBadge(label: string, message: string, state: AnyState): string {
  const lw = textWidth(label) + 12;
  const mw = textWidth(message) + 12;
  const w = lw + mw;
  const fill = FILL[badgeColour(state)];
  const title = `${label}: ${message}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${fill}"/><rect width="${w}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="14">${esc(label)}</text><text x="${lw + mw / 2}" y="14">${esc(message)}</text></g></svg>`;
}
