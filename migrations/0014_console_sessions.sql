-- Console sign-ins (crates/ledger-console). Only the session id's hash is
-- stored. A session stands for its key: it stops working when the key is
-- revoked or expires, and at `expires_at` whatever happens.
CREATE TABLE console_sessions (
    session_hash   BYTEA       PRIMARY KEY,
    -- NULL: the configured admin key, whose hash is then kept so that a
    -- changed admin key ends the sessions of the old one.
    key_id         UUID,
    admin_key_hash BYTEA,
    tenant_id      TEXT,
    scopes         TEXT[]      NOT NULL,
    -- The person commands are recorded for (`X-Actor-Id`).
    actor_id       TEXT        NOT NULL,
    csrf_token     TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
