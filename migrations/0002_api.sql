-- API keys and stored idempotent responses: operational data of the HTTP
-- API, not part of the event log.

CREATE TABLE api_keys (
    key_id      UUID        PRIMARY KEY,
    secret_hash BYTEA       NOT NULL,
    tenant_id   TEXT,
    scopes      TEXT[]      NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);

-- The first successful response to a command sent with an Idempotency-Key,
-- per tenant ('*' for keys bound to no tenant).
CREATE TABLE idempotency_records (
    scope           TEXT        NOT NULL,
    idempotency_key TEXT        NOT NULL,
    request_hash    BYTEA       NOT NULL,
    status          SMALLINT    NOT NULL,
    body            JSONB       NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, idempotency_key)
);
