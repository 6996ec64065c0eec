ALTER TABLE "jobs" ADD COLUMN "pipeline" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "stage_options" jsonb DEFAULT '{}'::jsonb NOT NULL;