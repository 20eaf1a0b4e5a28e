-- Request limits shared by every server (1.1): per client id and kind
-- (0: requests, counted against rate_limit_per_minute; 1: failed token
-- requests, counted towards the lockout), the times in milliseconds, by
-- the database's clock, of the hits still inside the kind's window, and
-- the newest of them. Each check is one upsert that PostgreSQL serialises
-- on the row, so servers counting at once never both take the last place.
-- UNLOGGED: nothing here needs to outlive a crash (a restart forgives, as
-- it does on SQLite, where the limits are kept in memory).
CREATE UNLOGGED TABLE client_limits (
    client_id TEXT NOT NULL,
    kind      SMALLINT NOT NULL,
    hits      BIGINT[] NOT NULL,
    last_ms   BIGINT NOT NULL,
    PRIMARY KEY (client_id, kind)
);
