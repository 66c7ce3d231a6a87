DROP VIEW IF EXISTS device_tags, subscription_tags;

CREATE TABLE device_tags (
    device_id  TEXT NOT NULL,
    tag_key    TEXT NOT NULL,
    tag_value  TEXT,
    PRIMARY KEY (device_id, tag_key)
);
CREATE INDEX device_tags_kv_idx ON device_tags (tag_key, tag_value);
INSERT INTO device_tags SELECT d.id, t.key, t.value FROM devices d, jsonb_each_text(d.tags) t;

CREATE TABLE subscription_tags (
    subscription_id  TEXT NOT NULL,
    tag_key          TEXT NOT NULL,
    tag_value        TEXT,
    PRIMARY KEY (subscription_id, tag_key)
);
CREATE INDEX subscription_tags_kv_idx ON subscription_tags (tag_key, tag_value);
INSERT INTO subscription_tags SELECT s.id, t.key, t.value FROM subscriptions s, jsonb_each_text(s.tags) t;

ALTER TABLE devices DROP COLUMN tags;
ALTER TABLE subscriptions DROP COLUMN tags;

CREATE INDEX devices_search_idx ON devices USING gin (
    to_tsvector('simple', coalesce(serial_number, '') || ' ' || coalesce(mac_address, '') || ' ' ||
                          coalesce(device_name, '') || ' ' || coalesce(secondary_name, '') || ' ' ||
                          coalesce(model, '')));
CREATE INDEX subscriptions_search_idx ON subscriptions USING gin (
    to_tsvector('simple', coalesce(key, '') || ' ' || coalesce(sku, '') || ' ' || coalesce(tier, '') || ' ' ||
                          coalesce(sku_description, '')));
