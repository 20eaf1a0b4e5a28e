-- Several servers on one database (1.1).

-- Which server runs each in-process (simulated or command) task.
ALTER TABLE tasks ADD COLUMN server_id TEXT;

-- One row per running server, its heartbeat in milliseconds by the
-- database's clock (never a server's): a server whose row is older than
-- the timeout is dead, and the servers still up fail its running tasks.
-- While it lives, the server also holds a session advisory lock on
-- `lock_key`, which PostgreSQL frees when its connection closes: a killed
-- server is known dead at once.
CREATE TABLE servers (
    id         TEXT PRIMARY KEY NOT NULL,
    started_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    lock_key   BIGINT NOT NULL
);

-- Every event of a Site, written in the transaction of the change it
-- announces, keyed by (Site, revision). Revisions are handed out under
-- the Site's row lock, so commit order is revision order; any server
-- replays from here for `Last-Event-ID`, and streams what it reads here
-- (woken by NOTIFY taskdeck_events, whose payload is only the Site's id,
-- or by a poll every second). Old events are pruned.
CREATE TABLE events (
    site_id  TEXT NOT NULL,
    revision BIGINT NOT NULL,
    name     TEXT NOT NULL,
    data     TEXT NOT NULL,
    PRIMARY KEY (site_id, revision)
);
