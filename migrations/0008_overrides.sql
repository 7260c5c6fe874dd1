CREATE TABLE "overrides" (
	"id" text PRIMARY KEY NOT NULL,
	"site_id" text NOT NULL,
	"kind" text NOT NULL,
	"override" jsonb NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"author" text NOT NULL,
	"reason" text NOT NULL,
	"force_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"ended_by" text
);
--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "overrides_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "overrides_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "overrides" ADD CONSTRAINT "overrides_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "overrides_site_open" ON "overrides" USING btree ("site_id","until") WHERE "overrides"."ended_at" IS NULL;