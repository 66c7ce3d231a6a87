-- Cheaper sync writes (issue #5; measured with benches/sync_full.rs and per-statement backend
-- CPU on 100 000 generated devices):
-- * The two full-text GIN indexes cost 3.2 s of the 7.4 s it took PostgreSQL to insert
--   100 000 devices, and no query uses them (the console filters in memory). Dropped.
-- * Tags were 4 rows per device in device_tags (plus two index entries each): 4.4 s for
--   400 000 rows. They are a property of the row, always written with it and replaced whole,
--   so they now live in a `tags` JSONB object on the row (+0.3 s). `device_tags` and
--   `subscription_tags` stay as views, so relational queries over tags keep working.

DROP INDEX IF EXISTS devices_search_idx;
DROP INDEX IF EXISTS subscriptions_search_idx;

ALTER TABLE devices ADD COLUMN tags JSONB NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE subscriptions ADD COLUMN tags JSONB NOT NULL DEFAULT '{}'::jsonb;

UPDATE devices d
   SET tags = t.tags
  FROM (SELECT device_id, jsonb_object_agg(tag_key, tag_value) AS tags
          FROM device_tags GROUP BY device_id) t
 WHERE t.device_id = d.id;
UPDATE subscriptions s
   SET tags = t.tags
  FROM (SELECT subscription_id, jsonb_object_agg(tag_key, tag_value) AS tags
          FROM subscription_tags GROUP BY subscription_id) t
 WHERE t.subscription_id = s.id;

DROP TABLE device_tags;
DROP TABLE subscription_tags;

CREATE VIEW device_tags AS
    SELECT d.id AS device_id, t.key AS tag_key, t.value AS tag_value
      FROM devices d CROSS JOIN LATERAL jsonb_each_text(d.tags) AS t;

CREATE VIEW subscription_tags AS
    SELECT s.id AS subscription_id, t.key AS tag_key, t.value AS tag_value
      FROM subscriptions s CROSS JOIN LATERAL jsonb_each_text(s.tags) AS t;

-- About a third of device rows pass the 2 kB mark at which PostgreSQL compresses raw_data;
-- pglz was ~6 % of the server's CPU during a full sync. lz4 (PostgreSQL 14+, when built with
-- it) compresses several times faster; servers without it keep pglz.
DO $$
BEGIN
    ALTER TABLE devices ALTER COLUMN raw_data SET COMPRESSION lz4;
    ALTER TABLE subscriptions ALTER COLUMN raw_data SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 compression not available; raw_data stays with the server default';
END
$$;
