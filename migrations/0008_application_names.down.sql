DROP TABLE IF EXISTS application_names;
