-- Assignment runs killed mid-way are marked `abandoned` (store::audit): each run's owner holds
-- an advisory lock until its end is recorded, so whether the owner is alive is decided by that
-- lock; host and pid are kept for people reading the run list.
-- assignment_runs.status gains `abandoned`; assignment_devices.outcome gains `validated`
-- (dry run) and `unknown` (the owner died while the device's call may have been sent).
ALTER TABLE assignment_runs ADD COLUMN host TEXT;
ALTER TABLE assignment_runs ADD COLUMN pid INTEGER;
