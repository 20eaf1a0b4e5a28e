-- The `total` of a page filtered by scope or initiator counts the matching
-- active rows. Indexed as `lower(…)`, those columns alone could not be
-- read from the index, so every count visited each row in the table
-- (2,000 rows of a Segment at 100,000 active tasks: 4 ms). With the column
-- itself and the status carried in the index, the count is an index-only
-- scan (0.5 ms), and the sorts by these columns use the same index.
DROP INDEX tasks_active_scope;
CREATE INDEX tasks_active_scope ON tasks (site_id, lower(scope), number, kind)
    INCLUDE (scope, status) WHERE status IN ('queued', 'running');
DROP INDEX tasks_active_initiator;
CREATE INDEX tasks_active_initiator ON tasks (site_id, lower(initiator), number, kind)
    INCLUDE (initiator, status) WHERE status IN ('queued', 'running');
