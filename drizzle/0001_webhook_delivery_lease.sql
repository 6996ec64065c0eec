DROP INDEX "webhook_delivery_attempts_delivery_idx";--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "queue_job_id" uuid;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "redelivery_of" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_delivery_attempts_delivery_attempt_idx" ON "webhook_delivery_attempts" USING btree ("delivery_id","attempt");