-- Active tasks counted per Site, kind, status and target type, moved by
-- the state machine (lifecycle.rs, `Moves`) in the same transaction as
-- every change it counts (one upsert per group a transaction moves, not
-- one per task), so that the `total` of a list filtered by status, kind
-- and target type alone (and the facets of those fields) is a sum of at
-- most twelve rows, never a count of the matching tasks.
CREATE TABLE active_counts (
    site_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (site_id, kind, status, target_type)
) WITHOUT ROWID;

INSERT INTO active_counts (site_id, kind, status, target_type, n)
SELECT site_id, kind, status, target_type, COUNT(*)
  FROM tasks
 WHERE status IN ('queued', 'running')
 GROUP BY site_id, kind, status, target_type;
