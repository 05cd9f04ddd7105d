-- The event log and what the store keeps beside it.
-- Only the store writes here; events are never updated or deleted.

CREATE TABLE events (
    global_position BIGINT      PRIMARY KEY,
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
    CONSTRAINT events_event_id_unique UNIQUE (event_id),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version),
    CONSTRAINT events_position_positive CHECK (global_position > 0),
    CONSTRAINT events_version_non_negative CHECK (stream_version >= 0)
);

-- Tenant-scoped reads of the global feed.
CREATE INDEX events_tenant_position ON events (tenant_id, global_position);

-- The last position handed out. Appending transactions lock this row first
-- and hold it until they commit, so positions are dense and become visible
-- in order (see ARCHITECTURE.md, "The global feed").
CREATE TABLE event_log_head (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    position  BIGINT  NOT NULL
);
INSERT INTO event_log_head (singleton, position) VALUES (TRUE, 0);

-- Each stream's head: current version and the hash its next event chains to.
CREATE TABLE streams (
    stream_id     TEXT        PRIMARY KEY,
    version       BIGINT      NOT NULL,
    head_hash     BYTEA       NOT NULL,
    head_position BIGINT      NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Values unique within a scope (a run's idempotency key within its tenant),
-- claimed atomically with the append that creates their stream.
CREATE TABLE unique_claims (
    scope               TEXT   NOT NULL,
    claim_key           TEXT   NOT NULL,
    stream_id           TEXT   NOT NULL,
    claimed_at_position BIGINT NOT NULL,
    PRIMARY KEY (scope, claim_key)
);

-- Folded stream states, so long streams are not re-read from the start.
-- A cache: deleting rows here is always safe.
CREATE TABLE snapshots (
    stream_id    TEXT        PRIMARY KEY,
    version      BIGINT      NOT NULL,
    state_format INTEGER     NOT NULL,
    state        JSONB       NOT NULL,
    taken_at     TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION reject_event_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_reject_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION reject_event_changes();

CREATE TRIGGER events_reject_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_event_changes();

CREATE TRIGGER unique_claims_reject_update_delete
    BEFORE UPDATE OR DELETE ON unique_claims
    FOR EACH ROW EXECUTE FUNCTION reject_event_changes();

CREATE TRIGGER unique_claims_reject_truncate
    BEFORE TRUNCATE ON unique_claims
    FOR EACH STATEMENT EXECUTE FUNCTION reject_event_changes();
