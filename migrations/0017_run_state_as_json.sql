-- `runs.state` and `runs.timeline` are written by the run-history
-- projector from the domain's own serializer and read back whole by the
-- API and the check against the log; nothing queries inside them. As
-- `jsonb`, every write had PostgreSQL parse and rebuild the document (a
-- third of its time in a projector batch, issue 16) and every read turn it
-- back into text. `json` keeps the text as written: a write only checks
-- that it is JSON, a read copies it out. A query that wants operators on
-- them casts, `state::jsonb`. The change rewrites the table once.
ALTER TABLE runs ALTER COLUMN timeline DROP DEFAULT;
ALTER TABLE runs
    ALTER COLUMN state TYPE json USING state::json,
    ALTER COLUMN timeline TYPE json USING timeline::json;
ALTER TABLE runs ALTER COLUMN timeline SET DEFAULT '{}'::json;
