-- A rollout's tick asks every second for the site's apply.failed events received since it started;
-- without an index of those alone it scanned every event the site ever had. Partial, so the other
-- events (10,000 apply.succeeded per apply of a 10,000-node site) never touch it.
CREATE INDEX "events_apply_failed" ON "events" USING btree ("site_id","received_at") WHERE type = 'apply.failed';