CREATE TABLE "worker_processes" (
	"lease_id" bigint PRIMARY KEY NOT NULL,
	"pipelines" text[] NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL
);
