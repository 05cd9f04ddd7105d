-- `runs.state` and `runs.timeline` become `text`. They hold the run-history
-- projector's own serialization of the folded run, read back whole and
-- decoded by the service, which refuses anything that is not a run; nothing
-- queries inside them (a query that wants JSON operators casts,
-- `state::json`). As `json`, every write had PostgreSQL check the document
-- once more: for a row of this size that check was a third of a plain
-- insert's time (docs/decisions.md). The change rewrites the table once.
ALTER TABLE runs ALTER COLUMN timeline DROP DEFAULT;
ALTER TABLE runs
    ALTER COLUMN state TYPE text,
    ALTER COLUMN timeline TYPE text;
ALTER TABLE runs ALTER COLUMN timeline SET DEFAULT '{}';
-- A new type takes the default compression: keep lz4 (migration 0019).
DO $$
BEGIN
    ALTER TABLE runs ALTER COLUMN state SET COMPRESSION lz4;
    ALTER TABLE runs ALTER COLUMN timeline SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: TOAST keeps pglz';
END $$;
