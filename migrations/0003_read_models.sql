-- Read models. Only projectors write here, each in the same transaction as
-- its checkpoint, so every event takes effect exactly once.

CREATE TABLE projection_checkpoints (
    name       TEXT        PRIMARY KEY,
    position   BIGINT      NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when the projector met an event it cannot apply; it then stops
    -- at `position` until fixed, and never skips the event.
    stopped    BOOLEAN     NOT NULL DEFAULT FALSE,
    last_error TEXT
);
INSERT INTO projection_checkpoints (name) VALUES ('run_history'), ('credits');

-- Run history: one row per run. `state` is the run folded by the domain's
-- own evolve; the other columns are derived from it for queries.
CREATE TABLE runs (
    run_id           UUID        PRIMARY KEY,
    tenant_id        TEXT        NOT NULL,
    owner_id         TEXT        NOT NULL,
    project_id       TEXT,
    status           TEXT        NOT NULL,
    current_stage    INTEGER     NOT NULL,
    document_name    TEXT,
    document_url     TEXT,
    company_id       TEXT,
    company_name     TEXT,
    pipeline_version TEXT,
    input_version    TEXT,
    rerun_of         UUID,
    rerun_count      INTEGER     NOT NULL DEFAULT 0,
    retry_count      INTEGER     NOT NULL,
    max_retry_count  INTEGER     NOT NULL,
    file_count       INTEGER     NOT NULL,
    files_completed  INTEGER     NOT NULL,
    files_failed     INTEGER     NOT NULL,
    credits_charged  BIGINT      NOT NULL,
    credits_refunded BIGINT      NOT NULL,
    error            JSONB,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    completed_at     TIMESTAMPTZ,
    version          BIGINT      NOT NULL,
    created_position BIGINT      NOT NULL,
    last_position    BIGINT      NOT NULL,
    state            JSONB       NOT NULL
);
-- Newest first, per tenant, with each filter of GET /v1/runs.
CREATE INDEX runs_tenant_newest ON runs (tenant_id, created_position DESC);
CREATE INDEX runs_tenant_project_newest ON runs (tenant_id, project_id, created_position DESC);
CREATE INDEX runs_tenant_owner_newest ON runs (tenant_id, owner_id, created_position DESC);
CREATE INDEX runs_tenant_status_newest ON runs (tenant_id, status, created_position DESC);
CREATE INDEX runs_rerun_of ON runs (rerun_of) WHERE rerun_of IS NOT NULL;

CREATE TABLE run_stages (
    run_id UUID    NOT NULL,
    number INTEGER NOT NULL,
    name   TEXT    NOT NULL,
    status TEXT    NOT NULL,
    output JSONB,
    error  TEXT,
    PRIMARY KEY (run_id, number)
);

CREATE TABLE run_files (
    run_id        UUID    NOT NULL,
    file_index    INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    retry_attempt INTEGER NOT NULL,
    error         TEXT,
    PRIMARY KEY (run_id, file_index)
);

CREATE TABLE credit_balances (
    tenant_id     TEXT        PRIMARY KEY,
    monthly       BIGINT      NOT NULL,
    purchased     BIGINT      NOT NULL,
    total         BIGINT      NOT NULL,
    consumed      BIGINT      NOT NULL,
    refunded      BIGINT      NOT NULL,
    granted       BIGINT      NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    last_position BIGINT      NOT NULL
);

-- One row per grant, deduction and refund.
CREATE TABLE credit_ledger (
    global_position BIGINT      PRIMARY KEY,
    tenant_id       TEXT        NOT NULL,
    kind            TEXT        NOT NULL,
    amount          BIGINT      NOT NULL,
    monthly         BIGINT      NOT NULL,
    purchased       BIGINT      NOT NULL,
    run_id          UUID,
    reason          TEXT,
    monthly_after   BIGINT      NOT NULL,
    purchased_after BIGINT      NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX credit_ledger_tenant_newest ON credit_ledger (tenant_id, global_position DESC);
CREATE INDEX credit_ledger_run ON credit_ledger (run_id) WHERE run_id IS NOT NULL;
