-- Active tasks counted per Site, kind, status and target type, kept by
-- triggers in the same transaction as every row change, so that the
-- `total` of a list filtered by status, kind and target type alone (and
-- the facets of those fields) is a sum of at most twelve rows, never a
-- count of the matching tasks.
CREATE TABLE active_counts (
    site_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (site_id, kind, status, target_type)
) WITHOUT ROWID;

CREATE TRIGGER active_counts_insert AFTER INSERT ON tasks
WHEN new.status IN ('queued', 'running') BEGIN
    INSERT INTO active_counts (site_id, kind, status, target_type, n)
    VALUES (new.site_id, new.kind, new.status, new.target_type, 1)
    ON CONFLICT (site_id, kind, status, target_type) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER active_counts_leave AFTER UPDATE OF status ON tasks
WHEN old.status IN ('queued', 'running') AND new.status IS NOT old.status BEGIN
    UPDATE active_counts SET n = n - 1
     WHERE site_id = old.site_id AND kind = old.kind AND status = old.status
       AND target_type = old.target_type;
END;

CREATE TRIGGER active_counts_enter AFTER UPDATE OF status ON tasks
WHEN new.status IN ('queued', 'running') AND new.status IS NOT old.status BEGIN
    INSERT INTO active_counts (site_id, kind, status, target_type, n)
    VALUES (new.site_id, new.kind, new.status, new.target_type, 1)
    ON CONFLICT (site_id, kind, status, target_type) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER active_counts_delete AFTER DELETE ON tasks
WHEN old.status IN ('queued', 'running') BEGIN
    UPDATE active_counts SET n = n - 1
     WHERE site_id = old.site_id AND kind = old.kind AND status = old.status
       AND target_type = old.target_type;
END;

INSERT INTO active_counts (site_id, kind, status, target_type, n)
SELECT site_id, kind, status, target_type, COUNT(*)
  FROM tasks
 WHERE status IN ('queued', 'running')
 GROUP BY site_id, kind, status, target_type;
