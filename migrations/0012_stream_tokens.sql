-- Stream tokens (docs/decisions.md, "Live updates in browsers"): a
-- browser's EventSource cannot send Authorization, so a page asks for a
-- token with its key (POST /v1/stream-tokens) and opens the stream with
-- ?token=. A token opens streams for a minute, on any instance, with its
-- key's tenant and scopes, and stops working when its key is revoked. Only
-- its hash is kept.
CREATE TABLE stream_tokens (
    token_hash BYTEA       PRIMARY KEY,
    key_id     UUID        REFERENCES api_keys (key_id),
    tenant_id  TEXT,
    scopes     TEXT[]      NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX stream_tokens_by_expiry ON stream_tokens (expires_at);
