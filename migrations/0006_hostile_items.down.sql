ALTER TABLE sync_history_resources DROP COLUMN IF EXISTS skipped, DROP COLUMN IF EXISTS sanitised;

DROP INDEX IF EXISTS device_subscriptions_sub_idx;
CREATE INDEX device_subscriptions_sub_idx ON device_subscriptions (subscription_id);
DROP INDEX IF EXISTS subscriptions_key_idx;
CREATE INDEX subscriptions_key_idx ON subscriptions (upper(key));
DROP INDEX IF EXISTS devices_mac_idx;
CREATE INDEX devices_mac_idx ON devices (mac_address);
DROP INDEX IF EXISTS devices_serial_idx;
CREATE INDEX devices_serial_idx ON devices (upper(serial_number));
