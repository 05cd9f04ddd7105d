-- Indexes for the run lists no index served (issue 16): keys of every
-- tenant (audit, admin, the console's operators) list all runs newest
-- first, and `rerun_of` lists a run's reruns in order (the filter, and the
-- reruns of each run a page shows). `tests/api/queries.rs` checks with
-- EXPLAIN that an index serves every filter and its order.
CREATE INDEX runs_newest ON runs (created_position);

-- The old `rerun_of` index had no order; found by definition, not by name,
-- since a projection rebuild swaps in indexes with generated names.
DO $$
DECLARE
    unordered regclass;
BEGIN
    FOR unordered IN
        SELECT indexrelid::regclass FROM pg_index
        WHERE indrelid = 'runs'::regclass
          AND pg_get_indexdef(indexrelid) LIKE '%(rerun_of) WHERE (rerun_of IS NOT NULL)'
    LOOP
        EXECUTE format('DROP INDEX %s', unordered);
    END LOOP;
END $$;
CREATE INDEX runs_rerun_of ON runs (rerun_of, created_position) WHERE rerun_of IS NOT NULL;
