CREATE TABLE "webhook_url_circuits" (
	"owner_id" text NOT NULL,
	"url" text NOT NULL,
	"circuit_state" text DEFAULT 'CLOSED' NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"circuit_opened_at" timestamp with time zone,
	"next_probe_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_url_circuits_owner_id_url_pk" PRIMARY KEY("owner_id","url")
);
--> statement-breakpoint
ALTER TABLE "webhook_url_circuits" ADD CONSTRAINT "webhook_url_circuits_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;