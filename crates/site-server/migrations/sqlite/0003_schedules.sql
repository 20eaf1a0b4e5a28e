-- Scan and Audit schedules. `next_run` is claimed and advanced in the same
-- transaction that queues the firing's task, so a firing happens once.
CREATE TABLE schedules (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    cron        TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_name TEXT NOT NULL,
    scope       TEXT NOT NULL,
    enabled     INTEGER NOT NULL,
    next_run    INTEGER
);

CREATE INDEX schedules_due ON schedules (site_id, next_run) WHERE enabled = 1;
