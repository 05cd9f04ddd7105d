-- Signed checkpoints (docs/hash-chain.md, "Signed checkpoints"): at intervals
-- the ledger signs, with Ed25519, the global position and a digest of every
-- stream's head at that position. Like events, they are never changed.
CREATE TABLE audit_checkpoints (
    position     BIGINT      PRIMARY KEY,
    created_at   TIMESTAMPTZ NOT NULL,
    stream_count BIGINT      NOT NULL,
    heads_digest BYTEA       NOT NULL,
    public_key   BYTEA       NOT NULL,
    signature    BYTEA       NOT NULL
);

-- The stream heads that changed since the previous checkpoint. A
-- checkpoint's full set of heads is, per stream, the newest row at or
-- before it, so storage grows with the events, not checkpoints x streams.
CREATE TABLE audit_checkpoint_heads (
    checkpoint_position BIGINT NOT NULL REFERENCES audit_checkpoints (position),
    stream_id           TEXT   NOT NULL,
    stream_version      BIGINT NOT NULL,
    global_position     BIGINT NOT NULL,
    hash                BYTEA  NOT NULL,
    PRIMARY KEY (stream_id, checkpoint_position)
);
CREATE INDEX audit_checkpoint_heads_by_checkpoint
    ON audit_checkpoint_heads (checkpoint_position);

CREATE TRIGGER audit_checkpoints_reject_update_delete
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION reject_event_changes();

CREATE TRIGGER audit_checkpoint_heads_reject_update_delete
    BEFORE UPDATE OR DELETE ON audit_checkpoint_heads
    FOR EACH ROW EXECUTE FUNCTION reject_event_changes();
