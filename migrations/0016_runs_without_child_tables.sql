-- Run history keeps one row per run (issue 16). `run_stages` and
-- `run_files` held a row per stage and per file beside `runs.state`, which
-- already holds the folded stages and files; no query read them, yet every
-- created run cost the projector a row and an index entry per stage and
-- file, and every stage change rewrote them all. The API reads stages and
-- files from `runs.state`.
DROP TABLE IF EXISTS run_stages;
DROP TABLE IF EXISTS run_files;

-- A run's row is rewritten by every batch that touches it; room left on
-- each page lets PostgreSQL write the new version beside the old one
-- without touching any index (a HOT update) when no indexed column
-- changed, as for stage, file and credit updates. Pages filled before
-- this migration get the room as they are rewritten.
ALTER TABLE runs SET (fillfactor = 80);
