-- Resolved alerts now go with the retention (kept as long as events, and at least the status
-- pages' 30-day incident timeline); this index finds them without reading the open ones or the rest.
CREATE INDEX "alerts_resolved" ON "alerts" USING btree ("resolved_at") WHERE "alerts"."resolved_at" IS NOT NULL;