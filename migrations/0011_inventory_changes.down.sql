DROP TABLE IF EXISTS inventory_changes;
