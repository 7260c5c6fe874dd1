ALTER TABLE "api_tokens" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "site" text;--> statement-breakpoint
CREATE INDEX "audit_log_org_at" ON "audit_log" USING btree ("org_id","created_at");--> statement-breakpoint
UPDATE "audit_log" SET "site" = "target" WHERE "action" IN ('site.apply', 'site.rollback');