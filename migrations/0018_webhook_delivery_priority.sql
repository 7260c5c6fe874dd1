-- Webhook deliveries are claimed most urgent first (critical, warning, info), so a critical alert
-- queued behind a large apply's info events goes out in the next round. Pending deliveries of the
-- Standard Webhooks format carry their severity in the payload and take its priority; Slack-shaped
-- ones stay info.
ALTER TABLE "webhook_deliveries" ADD COLUMN "priority" smallint DEFAULT 2 NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_claim" ON "webhook_deliveries" USING btree ("priority","next_attempt_at","event_id") WHERE status = 'pending';--> statement-breakpoint
UPDATE "webhook_deliveries" SET "priority" = CASE "payload" -> 'data' ->> 'severity' WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END WHERE "status" = 'pending';
