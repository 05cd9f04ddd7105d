-- The encoding each event's hash covers (docs/hash-chain.md): 1 for every
-- event written before hash v2 (the default fills them without a rewrite),
-- 2 for new ones. The store names it on every insert, so the default goes.
ALTER TABLE events ADD COLUMN hash_version SMALLINT NOT NULL DEFAULT 1
    CONSTRAINT events_hash_version_known CHECK (hash_version IN (1, 2));
ALTER TABLE events ALTER COLUMN hash_version DROP DEFAULT;
