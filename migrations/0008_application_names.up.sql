-- Application (service manager) names as the service catalog last gave them. Devices carry
-- only the application's id; with the names kept here, plans, reviews and tables can name
-- the application even when the catalog cannot be read (read-only, no credentials, outage).
CREATE TABLE application_names (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
