//! The few terms SQLite and PostgreSQL spell differently. Everything else
//! is written once, in the SQL both take (`$n` placeholders, `RETURNING`,
//! `ON CONFLICT`, row values, partial indexes).

use sqlx::AnyPool;

/// Which store a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default: one file under `data_dir`, one server.
    Sqlite,
    /// A shared database, for any number of servers (1.1).
    Postgres,
}

impl Dialect {
    /// The dialect of `pool`, read off its URL.
    pub fn of(pool: &AnyPool) -> Dialect {
        Dialect::of_url(pool.connect_options().database_url.as_str())
    }

    /// The dialect of an open connection.
    pub fn of_connection(connection: &sqlx::AnyConnection) -> Dialect {
        match connection.backend_name() {
            "PostgreSQL" => Dialect::Postgres,
            _ => Dialect::Sqlite,
        }
    }

    /// The dialect of a `database_url`.
    pub fn of_url(url: &str) -> Dialect {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        }
    }

    /// `expr`, compared and ordered case-insensitively. PostgreSQL's
    /// indexes are on `lower(expr)` (its migration), SQLite's on `NOCASE`.
    pub fn nocase(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{expr} COLLATE NOCASE"),
            Dialect::Postgres => format!("lower({expr})"),
        }
    }

    /// `FROM tasks` read through `index`. SQLite is told which index (its
    /// planner has no statistics on our partial indexes); PostgreSQL's
    /// planner chooses by its own.
    pub fn tasks_indexed_by(self, index: &str) -> String {
        match self {
            Dialect::Sqlite => format!(" FROM tasks INDEXED BY {index}"),
            Dialect::Postgres => " FROM tasks".to_owned(),
        }
    }

    /// `FROM tasks` read without walking any index in order.
    pub fn tasks_not_indexed(self) -> &'static str {
        match self {
            Dialect::Sqlite => " FROM tasks NOT INDEXED",
            Dialect::Postgres => " FROM tasks",
        }
    }

    /// The prefix that keeps SQLite from walking an index for an `ORDER BY`
    /// term (the unary `+`); PostgreSQL needs none and takes none on text.
    pub fn not_for_order(self) -> &'static str {
        match self {
            Dialect::Sqlite => "+",
            Dialect::Postgres => "",
        }
    }

    /// The larger of two values.
    pub fn greatest(self) -> &'static str {
        match self {
            Dialect::Sqlite => "MAX",
            Dialect::Postgres => "GREATEST",
        }
    }

    /// `column` (a JSON array as text) with the text of `$n` appended.
    pub fn json_push(self, column: &str, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("json_insert({column}, '$[#]', ${n})"),
            Dialect::Postgres => {
                format!("(CAST({column} AS jsonb) || jsonb_build_array(CAST(${n} AS text)))::text")
            }
        }
    }

    /// The statement a write transaction begins with. SQLite takes its
    /// write lock at once (`IMMEDIATE`); PostgreSQL's writes lock the rows
    /// they touch, and a Site's writes lock its `sites` row first.
    pub fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Milliseconds since the Unix epoch, by the database's clock.
    pub const fn now_ms(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            Dialect::Postgres => "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_store() {
        assert_eq!(
            Dialect::of_url("postgres://taskdeck@db/taskdeck"),
            Dialect::Postgres
        );
        assert_eq!(Dialect::of_url("postgresql://db/t"), Dialect::Postgres);
        assert_eq!(
            Dialect::of_url("sqlite:///var/lib/site.db"),
            Dialect::Sqlite
        );
    }
}
