CREATE TABLE "auth_failures" (
	"address" text PRIMARY KEY NOT NULL,
	"window_started_at" timestamp with time zone NOT NULL,
	"failures" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "limit_slots" (
	"kind" text NOT NULL,
	"key_id" text NOT NULL,
	"n" integer NOT NULL,
	"holders" jsonb NOT NULL,
	CONSTRAINT "limit_slots_kind_key_id_pk" PRIMARY KEY("kind","key_id")
);
