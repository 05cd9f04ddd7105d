-- When each run and its stages began and ended, by the recorded times of
-- the events that moved them (`ledger_projections::run_history::Timeline`).
-- Runs projected before this migration have an empty timeline until
-- run_history is rebuilt.
ALTER TABLE runs ADD COLUMN timeline JSONB NOT NULL DEFAULT '{}';
