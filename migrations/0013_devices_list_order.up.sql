-- The Devices tab's order (serial, then id, byte-wise) as an index, for its first screenful.
-- Without it the head's 200 rows were a top-N sort of every device: ~110 ms over 100 000
-- rows of one workspace, ~200 ms over the 157 800 rows of 301 (the consolidated head picks
-- the first 200 distinct (serial, id) pairs, a sort that spilled to disk at the default
-- work_mem), on a table whose rows are wide (raw_data inline). With it: an index scan of
-- the first few hundred entries, ~10 ms in either case. Written per row during a sync: a
-- btree of ~50-byte keys (measured with benches/sync_full.rs, see the README).
--
-- The serial's first 256 characters, not the whole serial: a btree entry holds at most
-- ~2.7 kB, and GreenLake has sent a 4 000-character serial (tests/hostile_items.rs) — with
-- the whole serial indexed, that device could not be stored. Byte-wise, the prefix then the
-- serial orders exactly as the serial; the queries sort the few rows sharing a prefix.
CREATE INDEX IF NOT EXISTS devices_list_order_idx
    ON devices (left(serial_number, 256) COLLATE "C", id COLLATE "C");
