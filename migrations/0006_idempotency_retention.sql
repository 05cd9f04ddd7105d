-- Idempotency records are kept for a retention period (see
-- RUN_LEDGER_IDEMPOTENCY_RETENTION_SECONDS); the sweeper deletes by age.
CREATE INDEX idempotency_records_created_at ON idempotency_records (created_at);
