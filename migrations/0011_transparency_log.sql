-- The transparency log (docs/transparency-log.md): an RFC 6962 Merkle tree
-- over the global log, C2SP signed checkpoints of it, and the witnesses'
-- cosignatures. The heads-digest checkpoints of 0005 are retired: their
-- tables stay, unchanged and unchangeable, and nothing writes them again.

-- Who this log is: its id names it (the default origin of its checkpoints).
CREATE TABLE log_identity (
    singleton  BOOLEAN     PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    log_id     UUID        NOT NULL DEFAULT gen_random_uuid(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO log_identity DEFAULT VALUES;

CREATE TRIGGER log_identity_reject_update_delete
    BEFORE UPDATE OR DELETE ON log_identity
    FOR EACH ROW EXECUTE FUNCTION reject_event_changes();

-- How many leaves (events, from position 1) the stored tree holds.
CREATE TABLE merkle_tree (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    size      BIGINT  NOT NULL CHECK (size >= 0)
);
INSERT INTO merkle_tree (size) VALUES (0);

-- The roots of the tree's complete subtrees: node (level, index) covers the
-- 2^level leaves from index * 2^level. 256 nodes of a level per row, their
-- 32-byte hashes side by side; the last row of a level grows as the tree
-- does, and a row never changes otherwise.
CREATE TABLE merkle_nodes (
    level  SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 63),
    chunk  BIGINT   NOT NULL CHECK (chunk >= 0),
    hashes BYTEA    NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
    PRIMARY KEY (level, chunk)
);
-- Hashes do not compress; stored uncompressed, a proof reads 32 bytes of a
-- row, not all of it.
ALTER TABLE merkle_nodes ALTER COLUMN hashes SET STORAGE EXTERNAL;

CREATE FUNCTION merkle_nodes_only_grow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       OR NEW.level <> OLD.level OR NEW.chunk <> OLD.chunk
       OR substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) <> OLD.hashes THEN
        RAISE EXCEPTION 'the Merkle tree only grows: % on % is not allowed', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER merkle_nodes_only_grow
    BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION merkle_nodes_only_grow();

-- Signed checkpoints: the note, as the log signed it.
CREATE TABLE log_checkpoints (
    tree_size  BIGINT      PRIMARY KEY CHECK (tree_size > 0),
    root_hash  BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    note       TEXT        NOT NULL
);

-- Witnesses' signatures of a checkpoint's note text.
CREATE TABLE log_cosignatures (
    tree_size  BIGINT      NOT NULL REFERENCES log_checkpoints (tree_size),
    key_name   TEXT        NOT NULL,
    key_id     BYTEA       NOT NULL,
    signature  BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tree_size, key_name, key_id)
);

CREATE TRIGGER log_checkpoints_reject_update_delete
    BEFORE UPDATE OR DELETE ON log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION reject_event_changes();

CREATE TRIGGER log_cosignatures_reject_update_delete
    BEFORE UPDATE OR DELETE ON log_cosignatures
    FOR EACH ROW EXECUTE FUNCTION reject_event_changes();
