DROP INDEX IF EXISTS devices_list_order_idx;
