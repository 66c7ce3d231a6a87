CREATE INDEX IF NOT EXISTS devices_type_idx         ON devices (device_type);
CREATE INDEX IF NOT EXISTS devices_region_idx       ON devices (region);
CREATE INDEX IF NOT EXISTS devices_application_idx  ON devices (application_id);
CREATE INDEX IF NOT EXISTS subscriptions_type_idx   ON subscriptions (subscription_type);
CREATE INDEX IF NOT EXISTS subscriptions_status_idx ON subscriptions (subscription_status);
