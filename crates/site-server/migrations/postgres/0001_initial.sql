-- The Site server's storage on PostgreSQL: the schema of SQLite's
-- migrations 0001 to 0008 (see there for each table's purpose), in
-- PostgreSQL's terms. Times are Unix seconds (UTC), lease times Unix
-- milliseconds; every integer is BIGINT, flags are 0 or 1, so that the
-- queries are the same on both stores.

-- One row per Site: the per-Site event revision and the queued and running
-- counters, moved in the same transaction as every change. Every write to
-- a Site locks this row first (`SELECT … FOR UPDATE`), so a Site's writes
-- are serialised across servers: revisions commit in revision order, and
-- the slots of its Audit Services are counted under the lock.
CREATE TABLE sites (
    id       TEXT PRIMARY KEY NOT NULL,
    revision BIGINT NOT NULL DEFAULT 0,
    queued   BIGINT NOT NULL DEFAULT 0,
    running  BIGINT NOT NULL DEFAULT 0
);

-- The last number handed out per Site and kind, moved by
-- `UPDATE … RETURNING` in the inserting transaction: gapless, never reused.
CREATE TABLE task_numbers (
    site_id TEXT NOT NULL,
    kind    TEXT NOT NULL,
    last    BIGINT NOT NULL,
    PRIMARY KEY (site_id, kind)
);

CREATE TABLE tasks (
    seq                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id            TEXT NOT NULL,
    kind               TEXT NOT NULL,
    number             BIGINT NOT NULL,
    target_type        TEXT NOT NULL,
    target_name        TEXT NOT NULL,
    scope              TEXT NOT NULL,
    initiator          TEXT NOT NULL,
    schedule_id        TEXT,
    schedule_name      TEXT,
    status             TEXT NOT NULL,
    audit_service_id   TEXT,
    audit_service_name TEXT,
    running_since      BIGINT,
    progress_done      BIGINT,
    progress_total     BIGINT,
    start_date         BIGINT NOT NULL,
    end_date           BIGINT,
    errors             BIGINT NOT NULL DEFAULT 0,
    error_messages     TEXT NOT NULL DEFAULT '[]',
    cancelled_by       TEXT,
    simulate           TEXT,
    agent_lease        BIGINT,
    UNIQUE (site_id, kind, number)
);

-- The Active tasks list's sorts and filters, each over the active rows
-- alone (SQLite's 0001 and 0006). Case-insensitive columns are indexed
-- as `lower(…)`, as `db::Dialect::nocase` writes them in queries.
CREATE INDEX tasks_active ON tasks (site_id, start_date DESC, number DESC, kind DESC)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_fifo ON tasks (site_id, start_date, seq) WHERE status = 'queued';
CREATE INDEX tasks_log ON tasks (site_id, kind, end_date DESC) WHERE end_date IS NOT NULL;
CREATE INDEX tasks_active_task ON tasks (site_id, kind, number)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_active_target ON tasks (site_id, lower(target_name), number, kind)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_active_scope ON tasks (site_id, lower(scope), number, kind)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_active_initiator ON tasks (site_id, lower(initiator), number, kind)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_active_status ON tasks (site_id, status, number, kind)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_active_target_type ON tasks (site_id, target_type, start_date, number, kind)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_active_scope_start ON tasks (site_id, lower(scope), start_date, number, kind)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_active_initiator_start ON tasks (site_id, lower(initiator), start_date, number, kind)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_running ON tasks (site_id, audit_service_id, start_date)
    WHERE status = 'running';

-- The `q` search: a trigram index over the four searched texts, written
-- exactly as `tasks::search::SEARCH_DOCUMENT`.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tasks_search ON tasks USING gin (
    (target_name || E'\n' || (CASE kind WHEN 'scan' THEN 'Scan #' ELSE 'Audit #' END)
        || CAST(number AS text) || E'\n' || scope || E'\n' || initiator) gin_trgm_ops
);

CREATE TABLE users (
    email        TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL
);

CREATE TABLE roles (
    email   TEXT NOT NULL,
    site_id TEXT NOT NULL,
    role    TEXT NOT NULL,
    PRIMARY KEY (email, site_id)
);

CREATE TABLE app_registrations (
    client_id   TEXT PRIMARY KEY NOT NULL,
    secret_hash TEXT NOT NULL,
    owner       TEXT NOT NULL,
    name        TEXT NOT NULL,
    expires_at  BIGINT
);

-- A token revoked through one server is refused by all: every request
-- reads this row.
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE queue_samples (
    site_id TEXT NOT NULL,
    minute  BIGINT NOT NULL,
    queued  BIGINT NOT NULL,
    running BIGINT NOT NULL,
    PRIMARY KEY (site_id, minute)
);

-- A firing is claimed by a conditional update of `next_run` in the
-- transaction that queues its task: it fires once, whichever server runs it.
CREATE TABLE schedules (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    cron        TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_name TEXT NOT NULL,
    scope       TEXT NOT NULL,
    enabled     BIGINT NOT NULL,
    next_run    BIGINT
);

CREATE INDEX schedules_due ON schedules (site_id, next_run) WHERE enabled = 1;

CREATE TABLE active_counts (
    site_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (site_id, kind, status, target_type)
);

CREATE TABLE agent_leases (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id        TEXT NOT NULL,
    service_id     TEXT NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    instance       TEXT NOT NULL,
    address        TEXT,
    version        TEXT NOT NULL,
    slots          BIGINT NOT NULL,
    connected_at   BIGINT NOT NULL,
    last_heartbeat BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    ended_at       BIGINT
);

CREATE INDEX agent_leases_service ON agent_leases (site_id, service_id, id);

-- One row per remote Audit Service, locked while a lease is granted: of
-- two agents racing through two servers, one gets the lease.
CREATE TABLE agent_lease_locks (
    site_id    TEXT NOT NULL,
    service_id TEXT NOT NULL,
    PRIMARY KEY (site_id, service_id)
);
