-- Remote Audit Services (1.1): the leases their agents hold, and which
-- lease each running task of theirs belongs to.
--
-- A lease is live while `ended_at` is null and `expires_at` (milliseconds
-- since the epoch) is in the future; heartbeats move `expires_at`. It ends
-- once, by a conditional update, in the same transaction that fails the
-- tasks it still held: that is the fence a late report runs into. Only
-- the hash of the session token is kept.
CREATE TABLE agent_leases (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id        TEXT NOT NULL,
    service_id     TEXT NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    instance       TEXT NOT NULL,
    address        TEXT,
    version        TEXT NOT NULL,
    slots          INTEGER NOT NULL,
    connected_at   INTEGER NOT NULL,
    last_heartbeat INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    ended_at       INTEGER
);

CREATE INDEX agent_leases_service ON agent_leases (site_id, service_id, id);

ALTER TABLE tasks ADD COLUMN agent_lease INTEGER;
