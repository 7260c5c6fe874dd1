import { Hono, type Context } from 'hono';
import type { StateSpan } from '#shared/status/uptime.ts';
import type { FieldChange } from '#shared/util/field-diff.ts';
import type { SiteView } from '../status/book.ts';
import type { Dashboard } from './dashboard-data.ts';
import { INCIDENT_DAYS, type AlertRecord } from '../status/incidents.ts';
import { renderBadge } from './badge.ts';
import { DASHBOARD_SCRIPT, DASHBOARD_SCRIPT_PATH, renderDashboard } from './dashboard.ts';
import { renderIncidentFeed } from './feed.ts';
import { layout, esc, PAGE_CSS, STYLESHEET_PATH } from './layout.ts';
import { publicStatus, publicSubjects, UPTIME_DAYS, worstFirst, type PublicStatus } from './public-status.ts';
import { renderStatusIndex } from './status-index.ts';
import { renderStatusPage, STATE_WORD, STATUS_SCRIPT, STATUS_SCRIPT_PATH, groupWord } from './status-page.ts';
import { statusSummary } from './summary-json.ts';
import { pageView } from './view.ts';

/** Who a request is, for the pages: the org of its viewer token or dashboard session. */
interface PageViewer {
  orgId: string;
}

export interface PagesDeps {
  /**
   * The site's status, or null when there is no such site (or it has no revision yet): the org's
   * site of that name, or without an org the first site of that name (a public page's address).
   */
  loadView: (site: string, of?: PageViewer) => Promise<SiteView | null>;
  /** Every site with a revision (for the public index). */
  listViews: () => Promise<SiteView[]>;
  /** Stored state spans of some subjects of a site reaching into the window since `since` (ms). */
  loadHistory: (siteId: string, subjects: string[], since: number) => Promise<ReadonlyMap<string, StateSpan[]>>;
  /** The site's alerts open at some moment since `since` (ms). */
  loadAlerts: (siteId: string, since: number) => Promise<AlertRecord[]>;
  /** The viewer the request's bearer token or dashboard session (Cookie header) is (any scope may read sites), or null. */
  viewer: (authorization: string | undefined, cookie: string | undefined) => Promise<PageViewer | null>;
  /** The dashboard's one read: the fleet summary and every site of the viewer's org, worst first. */
  loadDashboard: (of: PageViewer) => Promise<Dashboard>;
  /** The field-level diff between two revisions of the org's site (null: no such site or revision). */
  loadDiff: (site: string, from: number, to: number, of: PageViewer) => Promise<{ from: number; to: number; changes: FieldChange[] } | null>;
  now?: () => number;
}

const DAY_MS = 86_400_000;
const SITE = '[A-Za-z0-9][A-Za-z0-9_.-]*';
const asset = (body: string, type: string) => (c: Context) =>
  c.body(body, 200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'public, max-age=300' });

/** Status pages (`/status`, `/status/{site}` with its JSON, badge and feed) and the dashboard (`/`, a session cookie opened with a token). */
export function createPagesRouter(deps: PagesDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;

  const viewerOf = (c: Context) => deps.viewer(c.req.header('authorization'), c.req.header('cookie'));

  /**
   * A site's public status when this request may see it: a viewer's own org's site of that name,
   * else a public page of that name to anyone. Another org's private site is no site at all.
   */
  async function readable(c: Context, site: string): Promise<{ view: PublicStatus; at: number } | { status: 401 | 404; message: string }> {
    const viewer = await viewerOf(c);
    const own = viewer ? await deps.loadView(site, viewer) : null;
    const found = own ?? (await deps.loadView(site));
    const view = own ?? (found?.statusPage.public ? found : null);
    // The same answer whether the site is private or missing: a page never tells a stranger which private sites exist.
    if (!view && !viewer) return { status: 401, message: `no public status page named ${site}; a private one needs a viewer token` };
    if (!view) return { status: 404, message: `no site ${site}` };
    const at = now();
    const [spans, alerts] = await Promise.all([
      deps.loadHistory(view.siteId, publicSubjects(view), at - UPTIME_DAYS * DAY_MS),
      deps.loadAlerts(view.siteId, at - INCIDENT_DAYS * DAY_MS),
    ]);
    return { view: publicStatus(view, spans, alerts, at), at };
  }

  const pageUrl = (c: Context, site: string) => `${new URL(c.req.url).origin}/status/${encodeURIComponent(site)}`;

  app.get('/', (c) => c.html(renderDashboard()));
  app.get(STYLESHEET_PATH, asset(PAGE_CSS, 'text/css'));
  app.get(DASHBOARD_SCRIPT_PATH, asset(DASHBOARD_SCRIPT, 'text/javascript'));
  app.get(STATUS_SCRIPT_PATH, asset(STATUS_SCRIPT, 'text/javascript'));

  app.get('/status', async (c) => {
    const at = now();
    const list = (await deps.listViews()).filter((v) => v.statusPage.public).map((v) => publicStatus(v, new Map(), [], at));
    c.header('cache-control', 'no-store');
    return c.html(renderStatusIndex(worstFirst(list), at));
  });

  // Statuspage's summary.json: read by other origins' dashboards, so any origin may (no cookies: CORS `*`).
  app.options(`/status/:file{${SITE}\\.json}`, (c) =>
    c.body(null, 204, {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET',
      'access-control-allow-headers': 'authorization',
      'access-control-max-age': '600',
    }),
  );
  app.get(`/status/:file{${SITE}\\.json}`, async (c) => {
    c.header('access-control-allow-origin', '*');
    c.header('cache-control', 'no-store');
    const site = c.req.param('file').slice(0, -'.json'.length);
    const r = await readable(c, site);
    if (!('view' in r)) return c.json({ error: { code: r.status === 401 ? 'unauthorized' : 'not_found', message: r.message } }, r.status);
    return c.json(statusSummary(r.view, pageUrl(c, site)));
  });

  app.get(`/status/:site{${SITE}}/badge.svg`, async (c) => {
    const site = c.req.param('site');
    const r = await readable(c, site);
    c.header('cache-control', 'no-cache, max-age=0');
    if (!('view' in r)) return c.body(renderBadge(site, r.status === 401 ? 'private' : 'not found', 'unknown'), r.status, { 'content-type': 'image/svg+xml' });
    const { view } = r;
    const service = c.req.query('service');
    const group = c.req.query('group');
    let svg: string;
    if (service !== undefined) {
      const s = view.services.find((x) => x.name === service);
      if (!s) return c.body(renderBadge(service, 'no such service', 'unknown'), 404, { 'content-type': 'image/svg+xml' });
      svg = renderBadge(s.name, STATE_WORD[s.state], s.state);
    } else if (group !== undefined) {
      const g = view.groups.find((x) => x.instance === group);
      if (!g) return c.body(renderBadge(group, 'no such group', 'unknown'), 404, { 'content-type': 'image/svg+xml' });
      svg = renderBadge(g.instance, groupWord(g), g.state);
    } else svg = renderBadge(view.title, STATE_WORD[view.state], view.state);
    return c.body(svg, 200, { 'content-type': 'image/svg+xml' });
  });

  app.get(`/status/:site{${SITE}}/feed.atom`, async (c) => {
    const site = c.req.param('site');
    const r = await readable(c, site);
    if (!('view' in r)) return c.text(r.message, r.status);
    return c.body(renderIncidentFeed(r.view, pageUrl(c, site)), 200, { 'content-type': 'application/atom+xml; charset=utf-8', 'cache-control': 'no-cache' });
  });

  app.get(`/status/:site{${SITE}}`, async (c) => {
    const site = c.req.param('site');
    const r = await readable(c, site);
    c.header('cache-control', 'no-store');
    if (!('view' in r)) return c.html(layout('Not found', `<main><h1>No status page for ${esc(site)}</h1><p>${esc(r.message)}.</p></main>`), r.status);
    return c.html(renderStatusPage(r.view, r.at, `/status/${encodeURIComponent(site)}`));
  });

  const unauthorized = (c: Context) => c.json({ error: { code: 'unauthorized', message: 'a viewer token is required' } }, 401);

  app.get('/dashboard/fleet.json', async (c) => {
    const viewer = await viewerOf(c);
    if (!viewer) return unauthorized(c);
    c.header('cache-control', 'no-store');
    return c.json(await deps.loadDashboard(viewer));
  });

  app.get(`/dashboard/sites/:site{${SITE}}/diff.json`, async (c) => {
    const viewer = await viewerOf(c);
    if (!viewer) return unauthorized(c);
    const site = c.req.param('site');
    const [from, to] = ['from', 'to'].map((k) => Number(c.req.query(k)));
    for (const [k, n] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (!Number.isInteger(n) || n < 1) return c.json({ error: { code: 'bad_request', message: `${k}: a revision number (1 or more) is required` } }, 400);
    }
    const diff = await deps.loadDiff(site, from, to, viewer);
    return diff ? c.json(diff) : c.json({ error: { code: 'not_found', message: `no revisions ${from} and ${to} of site ${site}` } }, 404);
  });

  app.get(`/dashboard/sites/:file{${SITE}\\.json}`, async (c) => {
    const viewer = await viewerOf(c);
    if (!viewer) return unauthorized(c);
    const site = c.req.param('file').slice(0, -'.json'.length);
    const view = await deps.loadView(site, viewer);
    return view ? c.json(pageView(view)) : c.json({ error: { code: 'not_found', message: `no site ${site}` } }, 404);
  });
  return app;
}
