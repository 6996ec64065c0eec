CREATE TABLE "multipart_uploads" (
	"upload_id" text PRIMARY KEY NOT NULL,
	"bucket" text NOT NULL,
	"object_key" text NOT NULL,
	"lease_id" bigint,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL
);
