-- Issue 12: a sync run's outcome is final once recorded, and each resource of a run has its
-- own outcome (one resource's failure no longer stops the other).
--
-- A run that lost its workspace lock may be marked `abandoned` by the run that took the lock
-- over; nothing may turn that (or any other recorded end) back into `succeeded`. The engine's
-- `finish_run` only updates `running` rows; this trigger makes the rule hold for every writer.
CREATE FUNCTION sync_history_outcome_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.outcome <> 'running' AND NEW.outcome IS DISTINCT FROM OLD.outcome THEN
        RAISE EXCEPTION 'sync run % already ended as %; its outcome cannot become %',
            OLD.id, OLD.outcome, NEW.outcome
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER sync_history_outcome_is_final
    BEFORE UPDATE OF outcome ON sync_history
    FOR EACH ROW EXECUTE FUNCTION sync_history_outcome_is_final();

-- succeeded | failed | cancelled | not_run (the run stopped before this resource), and why.
ALTER TABLE sync_history_resources ADD COLUMN outcome TEXT;
ALTER TABLE sync_history_resources ADD COLUMN error TEXT;
