-- Hostile items (issue 12): one item must never fail a page.
-- * A btree index entry holds at most ~2.7 kB, so one serial number, MAC address or
--   subscription key of a few thousand characters failed its whole page with "index row size
--   exceeds btree maximum". These indexes only serve equality look-ups (`upper(serial_number)
--   = ANY($1)` when matching a sheet to devices, links by subscription id), never ranges or
--   ordering, so they become hash indexes: an entry is the value's 32-bit hash, whatever its
--   length, and the full value stays in the column and in raw_data. Primary keys stay btree:
--   an id too long for them is skipped and reported by the sync, not stored cut short.
-- * Runs count the items stored with U+FFFD for NUL characters (`sanitised`) and the items
--   that could not be used or stored (`skipped`).

DROP INDEX IF EXISTS devices_serial_idx;
CREATE INDEX devices_serial_idx ON devices USING hash (upper(serial_number));
DROP INDEX IF EXISTS devices_mac_idx;
CREATE INDEX devices_mac_idx ON devices USING hash (mac_address);
DROP INDEX IF EXISTS subscriptions_key_idx;
CREATE INDEX subscriptions_key_idx ON subscriptions USING hash (upper(key));
DROP INDEX IF EXISTS device_subscriptions_sub_idx;
CREATE INDEX device_subscriptions_sub_idx ON device_subscriptions USING hash (subscription_id);

ALTER TABLE sync_history_resources
    ADD COLUMN sanitised INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN skipped   INTEGER NOT NULL DEFAULT 0;
