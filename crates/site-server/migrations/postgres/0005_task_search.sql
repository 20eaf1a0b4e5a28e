-- The `q` search reads its own table, as on SQLite (its 0005): one row per
-- task with the four searched texts in one document, written when the task
-- is. Those texts never change after a task is created, so the row is
-- written once and its trigram index entries once.
--
-- The trigram index used to sit on `tasks` itself. A task's every change
-- (claimed, each progress step, ended) writes a new version of its row,
-- and a change of an indexed column (the status) cannot be a heap-only
-- update, so each version went into every index of `tasks`: the GIN index
-- took three sets of some thirty trigrams per task, 40 % of the
-- lifecycle's time (bench stores).
CREATE TABLE task_search (
    seq      BIGINT PRIMARY KEY NOT NULL,
    document TEXT NOT NULL
);

CREATE INDEX task_search_document ON task_search USING gin (document gin_trgm_ops);

-- One statement-level trigger for a batch of inserted tasks (a
-- multi-row INSERT writes its documents in one INSERT too). The document
-- is the one SQLite's trigger writes (target name, label, scope and
-- initiator, a line each), in lower case: a search tests it with LIKE
-- against the lower-cased pattern, which is what ILIKE does, without
-- folding the case of every document it reads (half the time).
CREATE FUNCTION task_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_search (seq, document)
    SELECT seq,
           lower(target_name || E'\n' || (CASE kind WHEN 'scan' THEN 'Scan #' ELSE 'Audit #' END)
               || CAST(number AS text) || E'\n' || scope || E'\n' || initiator)
      FROM inserted_tasks;
    RETURN NULL;
END
$$;

CREATE TRIGGER task_search_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS inserted_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION task_search_insert();

INSERT INTO task_search (seq, document)
SELECT seq,
       lower(target_name || E'\n' || (CASE kind WHEN 'scan' THEN 'Scan #' ELSE 'Audit #' END)
           || CAST(number AS text) || E'\n' || scope || E'\n' || initiator)
  FROM tasks;

DROP INDEX tasks_search;
