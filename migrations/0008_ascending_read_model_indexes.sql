-- The newest-first indexes of the read models become ascending: rows arrive
-- in position order, and an index whose new entries go at the end of their
-- key range fills its pages, while a descending one splits them in half and
-- leaves them so (twice the size, and more work per insert). Queries read
-- newest first by scanning these backwards.
--
-- Found by definition, not by name: a projection rebuild swaps in tables
-- whose indexes have generated names.
DO $$
DECLARE
    descending regclass;
BEGIN
    FOR descending IN
        SELECT indexrelid::regclass FROM pg_index
        WHERE indrelid IN ('runs'::regclass, 'credit_ledger'::regclass)
          AND pg_get_indexdef(indexrelid) LIKE '% DESC)'
    LOOP
        EXECUTE format('DROP INDEX %s', descending);
    END LOOP;
END $$;
CREATE INDEX runs_tenant_newest ON runs (tenant_id, created_position);
CREATE INDEX runs_tenant_project_newest ON runs (tenant_id, project_id, created_position);
CREATE INDEX runs_tenant_owner_newest ON runs (tenant_id, owner_id, created_position);
CREATE INDEX runs_tenant_status_newest ON runs (tenant_id, status, created_position);
CREATE INDEX credit_ledger_tenant_newest ON credit_ledger (tenant_id, global_position);
