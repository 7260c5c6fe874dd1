-- The fleet metrics count MASTER transitions per site at every scrape; without an index of those
-- events alone that count scanned every event ever stored. Partial, so the other events never touch it.
CREATE INDEX "events_became_master" ON "events" USING btree ("site_id") WHERE type = 'vrrp.transition' AND (data ->> 'to') = 'MASTER';