-- Queued and running counts per Site, kept in the same transaction as each
-- transition, so that a list page needs no scan to report them.
ALTER TABLE sites ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN running INTEGER NOT NULL DEFAULT 0;
UPDATE sites SET
    queued = (SELECT COUNT(*) FROM tasks WHERE tasks.site_id = sites.id AND tasks.status = 'queued'),
    running = (SELECT COUNT(*) FROM tasks WHERE tasks.site_id = sites.id AND tasks.status = 'running');
