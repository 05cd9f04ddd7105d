-- The events table becomes a declarative partitioned table, by ranges of
-- `global_position` (docs/scaling.md). Each partition's indexes stop
-- growing when the head moves past it, so an append writes to indexes the
-- size of one partition, not of the whole log, and an old partition can be
-- detached and archived on its own.
--
-- PostgreSQL requires the partition key in every unique index of a
-- partitioned table, so two guards change shape:
--   * event ids, unique across the log (retries are answered by them),
--     move to `event_ids`, written in the same statement as the events;
--   * `(stream_id, stream_version)` is unique within each partition; across
--     the log, the write statement checks that each stream it writes is at
--     the version before its first new event (`streams`), and raises
--     `ledger_stream_head_moved()` otherwise.
--
-- The table as it is becomes the first partition, in place: a CHECK on its
-- range lets ATTACH skip the scan, and no row is rewritten.

-- How partitions are cut: new ones span `partition_size` positions, from
-- `created_through` (the exclusive upper bound of the newest one).
CREATE TABLE event_log_partitioning (
    singleton       BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    partition_size  BIGINT  NOT NULL CHECK (partition_size > 0),
    created_through BIGINT  NOT NULL CHECK (created_through >= 1)
);

ALTER TABLE events RENAME TO events_p1;
ALTER INDEX events_pkey RENAME TO events_p1_pkey;
ALTER INDEX events_tenant_position RENAME TO events_p1_tenant_position;
ALTER TABLE events_p1 RENAME CONSTRAINT events_stream_version_unique
    TO events_p1_stream_version_unique;
ALTER TABLE events_p1 DROP CONSTRAINT events_event_id_unique;
-- Row triggers are cloned from the partitioned table on ATTACH.
DROP TRIGGER events_reject_update_delete ON events_p1;

CREATE TABLE events (
    global_position BIGINT      NOT NULL,
    event_id        UUID        NOT NULL,
    stream_id       TEXT        NOT NULL,
    stream_version  BIGINT      NOT NULL,
    event_type      TEXT        NOT NULL,
    schema_version  INTEGER     NOT NULL,
    data            JSONB       NOT NULL,
    metadata        JSONB       NOT NULL,
    tenant_id       TEXT,
    recorded_at     TIMESTAMPTZ NOT NULL,
    prev_hash       BYTEA       NOT NULL,
    hash            BYTEA       NOT NULL,
    hash_version    SMALLINT    NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (global_position),
    CONSTRAINT events_position_positive CHECK (global_position > 0),
    CONSTRAINT events_version_non_negative CHECK (stream_version >= 0),
    CONSTRAINT events_hash_version_known CHECK (hash_version IN (1, 2))
) PARTITION BY RANGE (global_position);

-- Tenant-scoped reads of the global feed.
CREATE INDEX events_tenant_position ON events (tenant_id, global_position);

CREATE TRIGGER events_reject_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION reject_event_changes();
-- Statement triggers are not inherited: each partition has its own too.
CREATE TRIGGER events_reject_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_event_changes();

-- Raised by a batch write when a stream it writes is not at the version
-- the batch follows: the writer then takes the locked path (ARCHITECTURE.md).
CREATE FUNCTION ledger_stream_head_moved() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a stream head moved' USING ERRCODE = 'RL002';
END $$;

-- Event ids, unique across every partition.
CREATE TABLE event_ids (
    event_id        UUID   PRIMARY KEY,
    global_position BIGINT NOT NULL
);
INSERT INTO event_ids (event_id, global_position)
SELECT event_id, global_position FROM events_p1;

CREATE TRIGGER event_ids_reject_update_delete
    BEFORE UPDATE OR DELETE ON event_ids
    FOR EACH ROW EXECUTE FUNCTION reject_event_changes();
CREATE TRIGGER event_ids_reject_truncate
    BEFORE TRUNCATE ON event_ids
    FOR EACH STATEMENT EXECUTE FUNCTION reject_event_changes();

DO $$
DECLARE
    size  CONSTANT BIGINT := 10000000;
    head  BIGINT := (SELECT position FROM event_log_head WHERE singleton);
    -- The first partition ends on a multiple of the size past the head.
    upper BIGINT := (head / size + 1) * size + 1;
BEGIN
    EXECUTE format(
        'ALTER TABLE events_p1 ADD CONSTRAINT events_p1_range
             CHECK (global_position >= 1 AND global_position < %s)', upper);
    EXECUTE format(
        'ALTER TABLE events ATTACH PARTITION events_p1 FOR VALUES FROM (1) TO (%s)', upper);
    ALTER TABLE events_p1 DROP CONSTRAINT events_p1_range;
    INSERT INTO event_log_partitioning (partition_size, created_through)
    VALUES (size, upper);
END $$;

-- Creates partitions until the ones there reach a whole partition's size
-- past the log's head, and returns how many it created. The service calls
-- it at start and then periodically, so no append waits for DDL; an append
-- past the last partition fails (there is no default partition), so a
-- missing one is seen, not hidden.
--
-- A partition is created apart and then attached: ATTACH PARTITION takes
-- only a SHARE UPDATE EXCLUSIVE lock on `events`, which appends and reads
-- do not wait for, where CREATE TABLE ... PARTITION OF takes an ACCESS
-- EXCLUSIVE one.
CREATE FUNCTION ledger_ensure_event_partitions() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    settings event_log_partitioning%ROWTYPE;
    head     BIGINT := (SELECT position FROM event_log_head WHERE singleton);
    name     TEXT;
    upper    BIGINT;
    created  INTEGER := 0;
BEGIN
    SELECT * INTO settings FROM event_log_partitioning WHERE singleton FOR UPDATE;
    WHILE settings.created_through <= head + settings.partition_size LOOP
        name := 'events_p' || settings.created_through;
        upper := settings.created_through + settings.partition_size;
        EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       name);
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (stream_id, stream_version)',
                       name || '_stream_version_unique', name);
        EXECUTE format('CREATE TRIGGER events_reject_truncate BEFORE TRUNCATE ON %I
                            FOR EACH STATEMENT EXECUTE FUNCTION reject_event_changes()', name);
        EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
                       name, settings.created_through, upper);
        settings.created_through := upper;
        created := created + 1;
    END LOOP;
    UPDATE event_log_partitioning SET created_through = settings.created_through
    WHERE singleton;
    RETURN created;
END $$;

SELECT ledger_ensure_event_partitions();
