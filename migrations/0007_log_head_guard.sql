-- Raised by a batch write that names the log head it follows when the head
-- is elsewhere (the writer's fast path, see ARCHITECTURE.md): the statement
-- fails whole, and the writer takes the locked path instead.
CREATE FUNCTION ledger_log_head_moved() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log head moved' USING ERRCODE = 'RL001';
END $$;
