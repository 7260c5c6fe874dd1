-- Retention of events (cloud/src/retention/). Deleting old events must not make the fleet metrics'
-- count of MASTER transitions go down: the deleting statement adds what it deleted to
-- pruned_master_transitions, and the counter reads both. The index on received_at lets each round
-- find the oldest events without walking the newer ones.
CREATE TABLE "pruned_master_transitions" (
	"site_id" text NOT NULL,
	"instance" text NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "pruned_master_transitions_site_id_instance_pk" PRIMARY KEY("site_id","instance")
);
--> statement-breakpoint
CREATE INDEX "events_received_at" ON "events" USING btree ("received_at");