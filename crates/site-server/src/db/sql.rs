//! A query built at run time (filters, sorts, searches), written once for
//! both stores.
//!
//! sqlx's own `QueryBuilder` over `Any` writes `?` for every bound value,
//! which PostgreSQL does not take; this one writes `$1, $2, …`, which both
//! PostgreSQL and sqlx's SQLite driver take, and carries the store's
//! [`Dialect`] for the few terms the two spell differently.

use std::fmt::Display;

use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, Arguments, Encode, FromRow, Type};

use super::Dialect;

/// SQL text with its bound values, in the order their `$n` appear.
pub struct Sql {
    dialect: Dialect,
    text: String,
    arguments: AnyArguments<'static>,
    bound: usize,
}

impl Sql {
    /// A query starting with `text`, for a store of `dialect`.
    pub fn new(dialect: Dialect, text: impl Display) -> Sql {
        Sql {
            dialect,
            text: text.to_string(),
            arguments: AnyArguments::default(),
            bound: 0,
        }
    }

    /// The store's dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: impl Display) -> &mut Sql {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(self.text, "{text}");
        self
    }

    /// Appends a placeholder for `value`.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Sql
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        if let Err(error) = self.arguments.add(value) {
            // Encoding an integer or a text into `Any` does not fail; keep
            // the error where the query will report it.
            tracing::error!(%error, "cannot bind a query argument");
        }
        self.bound += 1;
        let n = self.bound;
        self.push(format_args!("${n}"))
    }

    /// Appends a placeholder for `value` that compares case-insensitively
    /// with a column written by [`Dialect::nocase`].
    pub fn push_bind_nocase<T>(&mut self, value: T) -> &mut Sql
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        match self.dialect {
            Dialect::Sqlite => self.push_bind(value),
            Dialect::Postgres => {
                self.push("lower(");
                self.push_bind(value).push(")")
            }
        }
    }

    /// Appends `values` as placeholders separated by `", "`.
    pub fn push_bind_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Sql
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(value);
        }
        self
    }

    /// Appends row `index` of a multi-row `VALUES`: `", "` before every
    /// row but the first, then `(v1, v2, …)` of the values `row` binds.
    pub fn push_row(&mut self, index: usize, row: impl FnOnce(&mut Row<'_>)) -> &mut Sql {
        if index > 0 {
            self.push(", ");
        }
        self.push("(");
        row(&mut Row {
            sql: self,
            values: 0,
        });
        self.push(")")
    }

    /// The SQL text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The query, ready to run (taking the bound values).
    pub fn build(&mut self) -> Query<'_, Any, AnyArguments<'_>> {
        sqlx::query_with(&self.text, std::mem::take(&mut self.arguments))
    }

    /// The query, mapping each row to `T`.
    pub fn build_query_as<T>(&mut self) -> QueryAs<'_, Any, T, AnyArguments<'_>>
    where
        T: for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_as_with(&self.text, std::mem::take(&mut self.arguments))
    }

    /// The query, taking the first column of each row as `T`.
    pub fn build_query_scalar<T>(&mut self) -> QueryScalar<'_, Any, T, AnyArguments<'_>>
    where
        (T,): for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        sqlx::query_scalar_with(&self.text, std::mem::take(&mut self.arguments))
    }
}

/// One row of a multi-row `VALUES` ([`Sql::push_row`]).
pub struct Row<'a> {
    sql: &'a mut Sql,
    values: usize,
}

impl Row<'_> {
    /// Appends a placeholder for `value`, after a `", "` but for the first.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        if self.values > 0 {
            self.sql.push(", ");
        }
        self.sql.push_bind(value);
        self.values += 1;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut sql = Sql::new(Dialect::Postgres, "SELECT 1 WHERE a = ");
        sql.push_bind(1_i64)
            .push(" AND b IN (")
            .push_bind_list(["x", "y"])
            .push(") AND c = ")
            .push_bind_nocase("Z");
        assert_eq!(
            sql.text(),
            "SELECT 1 WHERE a = $1 AND b IN ($2, $3) AND c = lower($4)"
        );
        let mut sql = Sql::new(Dialect::Postgres, "INSERT INTO t (a, b) VALUES ");
        for (i, (a, b)) in [(1_i64, "x"), (2, "y")].into_iter().enumerate() {
            sql.push_row(i, |row| {
                row.bind(a).bind(b);
            });
        }
        assert_eq!(sql.text(), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        let mut sql = Sql::new(Dialect::Sqlite, "SELECT ");
        sql.push_bind_nocase("Z");
        assert_eq!(sql.text(), "SELECT $1");
    }
}
