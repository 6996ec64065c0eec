ALTER TABLE "jobs" ADD COLUMN "worker_lock" integer;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "worker_lock" integer;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_in_flight_idx" ON "webhook_deliveries" USING btree ("worker_lock") WHERE status = 'PENDING' and next_attempt_at is null;