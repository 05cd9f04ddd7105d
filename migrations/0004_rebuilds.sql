-- Progress of a read model's rebuild (replayed into a private schema, then
-- swapped in). `rebuild_heartbeat_at` tells a live rebuild from one whose
-- process died.
ALTER TABLE projection_checkpoints
    ADD COLUMN rebuild_position     BIGINT,
    ADD COLUMN rebuild_heartbeat_at TIMESTAMPTZ,
    ADD COLUMN rebuilt_at           TIMESTAMPTZ;
