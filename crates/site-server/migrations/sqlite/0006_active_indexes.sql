-- Every sort and every filter of the Active tasks list reads an index over
-- the active rows alone (partial on the same predicate as `tasks_active`,
-- written identically: see db::ACTIVE_PREDICATE). A sort's index holds the
-- rows in its order (the key, then number and kind, as the list breaks
-- ties), so a page walks it and stops after `limit + 1` rows; the same
-- index finds the rows of an equality filter on its key, counts them and
-- groups them for facets.

-- sort=task (kind, then number); the kind filter and facet.
CREATE INDEX tasks_active_task ON tasks (site_id, kind, number)
    WHERE status IN ('queued', 'running');
-- sort=target, case-insensitively.
CREATE INDEX tasks_active_target ON tasks (site_id, target_name COLLATE NOCASE, number, kind)
    WHERE status IN ('queued', 'running');
-- sort=scope; the scope filter (whole scope, case-insensitively) and facet.
CREATE INDEX tasks_active_scope ON tasks (site_id, scope COLLATE NOCASE, number, kind)
    WHERE status IN ('queued', 'running');
-- sort=initiator; the initiator filter and facet.
CREATE INDEX tasks_active_initiator ON tasks (site_id, initiator COLLATE NOCASE, number, kind)
    WHERE status IN ('queued', 'running');
-- sort=status; the status filter and facet.
CREATE INDEX tasks_active_status ON tasks (site_id, status, number, kind)
    WHERE status IN ('queued', 'running');
-- The target_type filter (in start-date order, the list's default) and facet.
CREATE INDEX tasks_active_target_type ON tasks (site_id, target_type, start_date, number, kind)
    WHERE status IN ('queued', 'running');
-- One scope, or one initiator, in start-date order: the filter alone (in
-- the default order) reads a page and stops, whatever its share of the queue.
CREATE INDEX tasks_active_scope_start ON tasks (site_id, scope COLLATE NOCASE, start_date, number, kind)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_active_initiator_start ON tasks (site_id, initiator COLLATE NOCASE, start_date, number, kind)
    WHERE status IN ('queued', 'running');
-- The running tasks alone, by Audit Service: the status=running and
-- audit_service filters and the audit_service facet (among active tasks
-- only running ones have a service; queries on it say `status = 'running'`
-- in these words, for the planner to match this index).
CREATE INDEX tasks_running ON tasks (site_id, audit_service_id, start_date)
    WHERE status = 'running';
