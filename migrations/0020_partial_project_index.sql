-- Only runs with a project go into the project list's index: a run without
-- one is never listed by project (`project_id = $1` cannot hold for NULL,
-- so PostgreSQL proves the partial index fits every such query), and each
-- run created without a project costs one index entry less, in the
-- projector, its rebuilds and the table's size. Found by definition, not
-- by name, as in migration 0015.
DO $$
DECLARE
    whole regclass;
BEGIN
    FOR whole IN
        SELECT indexrelid::regclass FROM pg_index
        WHERE indrelid = 'runs'::regclass
          AND pg_get_indexdef(indexrelid) LIKE '%(tenant_id, project_id, created_position)'
    LOOP
        EXECUTE format('DROP INDEX %s', whole);
    END LOOP;
END $$;
CREATE INDEX runs_tenant_project_newest ON runs (tenant_id, project_id, created_position)
    WHERE project_id IS NOT NULL;
