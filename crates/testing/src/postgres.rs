//! Test databases in the cluster whose URL `cargo xtask test` gives in
//! `TASKDECK_TEST_POSTGRES` (`postgres://taskdeck@127.0.0.1:PORT`).

use std::path::Path;
use std::sync::Mutex;

/// The environment variable holding the test cluster's URL.
pub const URL_VARIABLE: &str = "TASKDECK_TEST_POSTGRES";

/// The URL of a database of its own for `data_dir`, created if missing and
/// named after it, so that a server restarted on the same folder finds its
/// state again. Panics, saying how to get one, without a test cluster.
pub fn database_for(data_dir: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    database(&format!("t{:016x}", hasher.finish()))
}

/// The URL of the test database `name` (lower-case letters, digits and
/// `_`), created if this process has not made it yet.
pub fn database(name: &str) -> String {
    let base = std::env::var(URL_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{URL_VARIABLE} is not set: run this test through `cargo xtask test`, \
             which starts a PostgreSQL cluster for it (or `cargo xtask postgres` by hand)"
        )
    });
    static CREATED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    if !created.iter().any(|made| made == name) {
        let (admin, statement) = (
            format!("{base}/postgres"),
            format!("CREATE DATABASE {name}"),
        );
        // On a thread of its own: the caller may be inside a runtime.
        std::thread::spawn(move || {
            use sqlx::{Connection, Executor};
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for CREATE DATABASE");
            runtime.block_on(async {
                let mut connection = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach the test cluster at {admin}: {e}"));
                connection
                    .execute(statement.as_str())
                    .await
                    .unwrap_or_else(|e| panic!("{statement}: {e}"));
                let _ = connection.close().await;
            })
        })
        .join()
        .expect("CREATE DATABASE failed");
        created.push(name.to_owned());
    }
    format!("{base}/{name}")
}
