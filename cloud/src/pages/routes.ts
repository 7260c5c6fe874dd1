import { Hono } from 'hono';
import type { SiteView } from '../status/book.ts';
import { DASHBOARD_SCRIPT, DASHBOARD_SCRIPT_PATH, renderDashboard } from './dashboard.ts';
import { renderStatusPage } from './status-page.ts';
import { pageView, publicView } from './view.ts';
import { layout, esc, PAGE_CSS, STYLESHEET_PATH } from './layout.ts';

export interface PagesDeps {
  /** The site's status, or null when there is no such site (or it has no revision yet). */
  loadView: (site: string) => Promise<SiteView | null>;
  /** True when the request's bearer token or dashboard session (Cookie header) may read sites (viewer scope or above). */
  canView: (authorization: string | undefined, cookie: string | undefined) => Promise<boolean>;
}

/** Status pages (public, `/status/{site}`) and the dashboard (`/`, a session cookie opened with a token). */
export function createPagesRouter(deps: PagesDeps): Hono {
  const app = new Hono();
  app.get('/', (c) => c.html(renderDashboard()));
  app.get(STYLESHEET_PATH, (c) => c.body(PAGE_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=300' }));
  app.get(DASHBOARD_SCRIPT_PATH, (c) =>
    c.body(DASHBOARD_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' }),
  );
  app.get('/status/:site{[A-Za-z0-9][A-Za-z0-9_.-]*}', async (c) => {
    let site = c.req.param('site');
    const json = site.endsWith('.json');
    if (json) site = site.slice(0, -'.json'.length);
    const view = await deps.loadView(site);
    if (!view) {
      if (json) return c.json({ error: { code: 'not_found', message: `no site ${site}` } }, 404);
      return c.html(layout('Not found', `<h1>No status page for ${esc(site)}</h1>`), 404);
    }
    c.header('cache-control', 'no-store');
    const pub = publicView(pageView(view));
    return json ? c.json(pub) : c.html(renderStatusPage(pub));
  });
  app.get('/dashboard/sites/:file{[A-Za-z0-9][A-Za-z0-9_.-]*\\.json}', async (c) => {
    if (!(await deps.canView(c.req.header('authorization'), c.req.header('cookie')))) {
      return c.json({ error: { code: 'unauthorized', message: 'a viewer token is required' } }, 401);
    }
    const site = c.req.param('file').slice(0, -'.json'.length);
    const view = await deps.loadView(site);
    return view ? c.json(pageView(view)) : c.json({ error: { code: 'not_found', message: `no site ${site}` } }, 404);
  });
  return app;
}
