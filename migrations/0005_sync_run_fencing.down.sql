ALTER TABLE sync_history_resources DROP COLUMN IF EXISTS error;
ALTER TABLE sync_history_resources DROP COLUMN IF EXISTS outcome;
DROP TRIGGER IF EXISTS sync_history_outcome_is_final ON sync_history;
DROP FUNCTION IF EXISTS sync_history_outcome_is_final();
