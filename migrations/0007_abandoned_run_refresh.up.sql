-- When the devices of an abandoned assignment run (its process was killed mid-apply) were
-- read again from GreenLake. Until then the stored values of those devices may predate calls
-- that did reach GreenLake, so the next plan for them re-reads them first.
ALTER TABLE assignment_devices ADD COLUMN refreshed_at TIMESTAMPTZ;
