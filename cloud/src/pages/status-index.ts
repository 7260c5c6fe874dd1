import { badgeColour } from '#shared/status/model.ts';
import { esc, layout } from './layout.ts';
import { STATE_WORD } from './status-page.ts';
import type { PublicStatus } from './public-status.ts';
import { inWords } from './words.ts';

/** `/status`: the public sites, worst first, each with its state and first reason. Private sites are not listed. */
export function renderStatusIndex(list: PublicStatus[], now: number): string {
  const rows = list
    .map(
      (v) => `<li class="row" data-site="${esc(v.site)}" data-state="${v.state}">
  <a class="name" href="/status/${encodeURIComponent(v.site)}">${esc(v.title)}</a>
  <span class="badge ${badgeColour(v.state)}">${STATE_WORD[v.state]}</span>${v.reasons[0] ? `<span class="detail">${esc(inWords(v.reasons[0].text, now))}${v.reasons.length > 1 ? ` (+${v.reasons.length - 1} more)` : ''}</span>` : ''}
</li>`,
    )
    .join('\n');
  const body = `<main><h1>Status</h1><ul class="list" id="sites">${rows || '<li class="row">No public status pages</li>'}</ul></main>`;
  return layout('Status', body);
}
