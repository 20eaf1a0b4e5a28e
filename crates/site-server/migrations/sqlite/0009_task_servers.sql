-- Which server runs each in-process task (its random id at start). On
-- SQLite there is one server; the column keeps the queries the same on
-- both stores.
ALTER TABLE tasks ADD COLUMN server_id TEXT;
