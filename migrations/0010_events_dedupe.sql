ALTER TABLE "events" ADD COLUMN "dedupe_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "events_node_dedupe" ON "events" USING btree ("node_id","dedupe_key");