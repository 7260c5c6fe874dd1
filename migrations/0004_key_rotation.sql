ALTER TABLE "signing_keys" ADD COLUMN "state" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "signing_keys" ADD COLUMN "generation" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "signing_keys" ADD COLUMN "previous_kid" text;--> statement-breakpoint
ALTER TABLE "signing_keys" ADD COLUMN "certificate" text;--> statement-breakpoint
ALTER TABLE "signing_keys" ADD COLUMN "activated_at" timestamp with time zone;--> statement-breakpoint
UPDATE "signing_keys" SET "state" = 'retired' WHERE "retired_at" IS NOT NULL;