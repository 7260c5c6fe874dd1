DROP INDEX "outbox_pending";--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "status" text DEFAULT 'pending' NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "skipped_reason" text;--> statement-breakpoint
-- Backfill from the old encoding: published_at marked a row done, and last_error on a done row
-- meant skipped (its reason), on an open row a failed attempt. Only published rows keep published_at.
UPDATE "outbox" SET
  "status" = CASE
    WHEN "published_at" IS NULL AND "last_error" IS NULL THEN 'pending'
    WHEN "published_at" IS NULL THEN 'failed'
    WHEN "last_error" IS NULL THEN 'published'
    ELSE 'skipped' END,
  "skipped_reason" = CASE WHEN "published_at" IS NOT NULL THEN "last_error" END,
  "last_error" = CASE WHEN "published_at" IS NULL THEN "last_error" END,
  "published_at" = CASE WHEN "last_error" IS NULL THEN "published_at" END;--> statement-breakpoint
CREATE INDEX "outbox_due" ON "outbox" USING btree ("status","next_attempt_at");
