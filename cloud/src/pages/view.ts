import type { SiteStatus } from '#shared/status/model.ts';
import type { SiteView } from '../status/book.ts';

/** A site's status as the pages and the dashboard read it: the model's `SiteStatus` and the revision in force. */
export type PageView = SiteStatus & { revision: number };

export function pageView(v: SiteView): PageView {
  return { ...v.status, revision: v.revision };
}
