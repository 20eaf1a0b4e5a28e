//! The `q` search: a case-insensitive substring of target name, label,
//! scope or initiator, planned against a trigram index over the four texts
//! in one document, written once when the task is: the `task_search` table,
//! SQLite's with FTS5 (migration 0005), PostgreSQL's with a `pg_trgm` index
//! (its migration 0005).

use crate::db::{Dialect, Sql};
use crate::error::AppError;

/// A `q` search, and how it reads the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The LIKE pattern that decides what matches.
    pattern: String,
    /// The trigram phrase, when few enough rows match it that reading them
    /// by rowid beats walking the list's index in order (SQLite).
    narrow: Option<String>,
}

/// Up to this many trigram matches, a search reads the matching rows by
/// rowid; past it, walking the index in the list's order fills a page sooner.
const NARROW_SEARCH_ROWS: i64 = 5_000;

impl Search {
    /// Plans the search for `q`, asking the trigram index how broad it is.
    pub async fn plan(
        connection: &mut sqlx::AnyConnection,
        q: Option<&str>,
    ) -> Result<Option<Search>, AppError> {
        let Some(q) = q else {
            return Ok(None);
        };
        let pattern = format!("%{}%", escape_like(q));
        if Dialect::of_connection(connection) == Dialect::Postgres {
            return Ok(Some(Search {
                pattern,
                narrow: None,
            }));
        }
        let mut narrow = None;
        if let Some(phrase) = trigram_phrase(q) {
            let matches: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM task_search WHERE task_search MATCH $1 LIMIT $2)",
            )
            .bind(&phrase)
            .bind(NARROW_SEARCH_ROWS + 1)
            .fetch_one(connection)
            .await?;
            if matches <= NARROW_SEARCH_ROWS {
                narrow = Some(phrase);
            }
        }
        Ok(Some(Search { pattern, narrow }))
    }

    /// True if and only if the search reads the trigram index's matches.
    pub fn is_narrow(&self) -> bool {
        self.narrow.is_some()
    }

    /// The `FROM` clause: a narrow search must not walk an index.
    pub fn from_tasks(dialect: Dialect, search: Option<&Search>) -> &'static str {
        match search {
            Some(Search {
                narrow: Some(_), ..
            }) => dialect.tasks_not_indexed(),
            _ => " FROM tasks",
        }
    }
}

/// Adds the `q` search to a `WHERE` clause: shared by every list.
pub fn push_search(sql: &mut Sql, search: Option<&Search>) {
    let Some(search) = search else {
        return;
    };
    let like = match sql.dialect() {
        Dialect::Sqlite => "LIKE",
        Dialect::Postgres => "ILIKE",
    };
    if sql.dialect() == Dialect::Postgres {
        // The document the trigram index is over, tested as ILIKE tests
        // (both sides lower-cased, then LIKE). As EXISTS, the planner
        // either reads the index's matches or walks the list's index and
        // looks each row up, whichever is cheaper.
        // The document is lower-cased once, when it is written.
        sql.push(
            " AND EXISTS (SELECT 1 FROM task_search WHERE task_search.seq = tasks.seq \
             AND task_search.document LIKE lower(",
        )
        .push_bind(search.pattern.clone())
        .push(") ESCAPE '\\')");
        // The document holds the four texts a line each, so a pattern
        // without a line break matches it exactly when it matches one of
        // them: the tests below would only repeat it.
        if !search.pattern.contains('\n') {
            return;
        }
    }
    if let Some(phrase) = &search.narrow {
        // The trigram index finds the candidates; the LIKE test below
        // keeps the exact meaning (the index folds case more widely).
        sql.push(" AND seq IN (SELECT rowid FROM task_search WHERE task_search MATCH ")
            .push_bind(phrase.clone())
            .push(")");
    }
    let pattern = &search.pattern;
    sql.push(format!(" AND (target_name {like} "))
        .push_bind(pattern.clone())
        .push(format!(" ESCAPE '\\' OR scope {like} "))
        .push_bind(pattern.clone())
        .push(format!(" ESCAPE '\\' OR initiator {like} "))
        .push_bind(pattern.clone())
        .push(format!(
            " ESCAPE '\\' OR ((CASE kind WHEN 'scan' THEN 'Scan #' ELSE 'Audit #' END) || CAST(number AS text)) {like} "
        ))
        .push_bind(pattern.clone())
        .push(" ESCAPE '\\')");
}

/// The search text as an FTS5 phrase for the trigram index, when it is long
/// enough (three characters) for the index to narrow anything.
fn trigram_phrase(q: &str) -> Option<String> {
    (q.chars().count() >= 3).then(|| format!("\"{}\"", q.replace('"', "\"\"")))
}

/// Makes `%`, `_` and `\` match themselves in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use sqlx::AnyPool;

    use super::*;

    /// The seqs a search selects, with the given plan.
    async fn searched(pool: &AnyPool, search: &Search) -> Vec<i64> {
        let mut sql = Sql::new(Dialect::Sqlite, "SELECT seq");
        sql.push(Search::from_tasks(Dialect::Sqlite, Some(search)));
        sql.push(" WHERE TRUE");
        push_search(&mut sql, Some(search));
        sql.push(" ORDER BY seq");
        sql.build_query_scalar().fetch_all(pool).await.unwrap()
    }

    #[tokio::test]
    async fn narrow_and_broad_searches_find_exactly_what_like_finds() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::open_sqlite(dir.path()).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        for number in 1..=(NARROW_SEARCH_ROWS + 100) {
            sqlx::query(
                "INSERT INTO tasks (site_id, kind, number, target_type, target_name, scope,
                                    initiator, status, start_date)
                 VALUES ('hq', 'scan', $1, 'device', $2, 'Segment HQ', 'ann@example.com', 'queued', $3)",
            )
            .bind(number)
            .bind(format!("WS-{number:05}"))
            .bind(number)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let mut connection = pool.acquire().await.unwrap();
        for (q, narrow, expected) in [
            ("ws-0004", true, (40..50).collect::<Vec<i64>>()),
            ("Scan #5100", true, vec![5100]),
            ("ws-", false, (1..=NARROW_SEARCH_ROWS + 100).collect()),
            (
                "00",
                false,
                (1..=NARROW_SEARCH_ROWS + 100)
                    .filter(|n| format!("{n:05}").contains("00"))
                    .collect(),
            ),
            ("nothing like it", true, vec![]),
        ] {
            let search = Search::plan(&mut connection, Some(q))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(search.narrow.is_some(), narrow, "{q}");
            assert_eq!(searched(&pool, &search).await, expected, "{q}");
            // The other plan finds the same rows.
            let other = Search {
                narrow: match search.narrow {
                    Some(_) => None,
                    None => trigram_phrase(q),
                },
                ..search
            };
            assert_eq!(searched(&pool, &other).await, expected, "{q}, other plan");
        }
    }

    #[test]
    fn searches_of_three_characters_or_more_use_the_trigram_index() {
        assert_eq!(trigram_phrase("ws"), None);
        assert_eq!(trigram_phrase("ws-0042").as_deref(), Some("\"ws-0042\""));
        assert_eq!(
            trigram_phrase("say \"hi\"").as_deref(),
            Some("\"say \"\"hi\"\"\"")
        );
    }

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
