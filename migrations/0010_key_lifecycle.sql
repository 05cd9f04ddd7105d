-- The key lifecycle (docs/decisions.md, "API keys"): a label, an expiry,
-- when the key was last used, and the secret it had before its last
-- rotation with the end of its grace period. Who changed a key, and when,
-- is in the log (`key-{id}` streams), never a secret.
ALTER TABLE api_keys
    ADD COLUMN label TEXT,
    ADD COLUMN expires_at TIMESTAMPTZ,
    ADD COLUMN last_used_at TIMESTAMPTZ,
    ADD COLUMN previous_secret_hash BYTEA,
    ADD COLUMN previous_valid_until TIMESTAMPTZ;
