-- The folded run (`runs.state`), its timeline, stream snapshots and stored
-- answers are compressed by TOAST whenever they outgrow about 2 kB, which a
-- run of a hundred stages does on every write of its row. lz4 compresses
-- them for a fraction of pglz's CPU (pglz was 3 % of the machine under the
-- bench's 100-event batches). Rows written before keep pglz; PostgreSQL
-- reads both. A server built without lz4 keeps pglz: the ledger works the
-- same, a little slower.
DO $$
BEGIN
    ALTER TABLE runs ALTER COLUMN state SET COMPRESSION lz4;
    ALTER TABLE runs ALTER COLUMN timeline SET COMPRESSION lz4;
    ALTER TABLE snapshots ALTER COLUMN state SET COMPRESSION lz4;
    ALTER TABLE idempotency_records ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: TOAST keeps pglz';
END $$;
