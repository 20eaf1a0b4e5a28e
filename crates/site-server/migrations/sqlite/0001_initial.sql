-- The Site server's storage. Times are Unix seconds (UTC).

-- One row per configured Site: the per-Site event revision, bumped in the
-- same transaction as every change it numbers.
CREATE TABLE sites (
    id       TEXT PRIMARY KEY NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0
);

-- The last number handed out per Site and kind: numbers are never reused.
CREATE TABLE task_numbers (
    site_id TEXT NOT NULL,
    kind    TEXT NOT NULL,
    last    INTEGER NOT NULL,
    PRIMARY KEY (site_id, kind)
);

-- Every task, active or terminal. A terminal row is the task's Scan-log or
-- Audit-log row: one row per task, so one log row per task by construction.
CREATE TABLE tasks (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id            TEXT NOT NULL,
    kind               TEXT NOT NULL,
    number             INTEGER NOT NULL,
    target_type        TEXT NOT NULL,
    target_name        TEXT NOT NULL,
    scope              TEXT NOT NULL,
    initiator          TEXT NOT NULL,
    schedule_id        TEXT,
    schedule_name      TEXT,
    status             TEXT NOT NULL,
    audit_service_id   TEXT,
    audit_service_name TEXT,
    running_since      INTEGER,
    progress_done      INTEGER,
    progress_total     INTEGER,
    start_date         INTEGER NOT NULL,
    end_date           INTEGER,
    errors             INTEGER NOT NULL DEFAULT 0,
    error_messages     TEXT NOT NULL DEFAULT '[]',
    cancelled_by       TEXT,
    simulate           TEXT,
    UNIQUE (site_id, kind, number)
);

CREATE INDEX tasks_active ON tasks (site_id, start_date DESC, number DESC, kind DESC)
    WHERE status IN ('queued', 'running');
CREATE INDEX tasks_fifo ON tasks (site_id, start_date, seq) WHERE status = 'queued';
CREATE INDEX tasks_log ON tasks (site_id, kind, end_date DESC) WHERE end_date IS NOT NULL;

-- Users, roles and app registrations mirror the configuration file; they are
-- rewritten at start and read on every request.
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
    expires_at  INTEGER
);

-- Access tokens, stored as SHA-256 of the random token: a leaked database
-- holds no usable token.
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
