-- A trigram index over what `q` searches (target name, label, scope and
-- initiator), so a search reads the matching rows instead of every row.
-- The four texts are never changed after a task is created, so one row per
-- task, written when the task is, keeps it true. Queries still apply the
-- exact LIKE test to what the index finds: the index only narrows.
CREATE VIRTUAL TABLE task_search USING fts5(doc, tokenize = 'trigram');

CREATE TRIGGER task_search_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_search (rowid, doc) VALUES (
        new.seq,
        new.target_name || char(10)
            || (CASE new.kind WHEN 'scan' THEN 'Scan #' ELSE 'Audit #' END) || new.number
            || char(10) || new.scope || char(10) || new.initiator
    );
END;

CREATE TRIGGER task_search_delete AFTER DELETE ON tasks BEGIN
    DELETE FROM task_search WHERE rowid = old.seq;
END;

INSERT INTO task_search (rowid, doc)
SELECT seq,
       target_name || char(10)
           || (CASE kind WHEN 'scan' THEN 'Scan #' ELSE 'Audit #' END) || number
           || char(10) || scope || char(10) || initiator
  FROM tasks;
