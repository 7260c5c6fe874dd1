CREATE TABLE "rollouts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"site_id" text NOT NULL,
	"revision" integer NOT NULL,
	"state" text NOT NULL,
	"plan" jsonb NOT NULL,
	"author" text NOT NULL,
	"rollback_revision" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "rollouts_site_revision" ON "rollouts" USING btree ("site_id","revision");--> statement-breakpoint
CREATE INDEX "rollouts_state" ON "rollouts" USING btree ("state");