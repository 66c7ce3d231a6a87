DROP VIEW IF EXISTS subscription_summary, device_summary, expired_subscriptions, active_subscriptions, active_devices;
DROP FUNCTION IF EXISTS devices_on_expiring_subscriptions(INTEGER);
DROP FUNCTION IF EXISTS subscriptions_expiring(INTEGER);
DROP TABLE IF EXISTS assignment_devices, assignment_operations, assignment_runs, sync_seen,
    sync_history_resources, sync_history, subscription_tags, device_tags, device_subscriptions,
    subscriptions, devices;
