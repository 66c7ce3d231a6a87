ALTER TABLE assignment_devices DROP COLUMN IF EXISTS refreshed_at;
