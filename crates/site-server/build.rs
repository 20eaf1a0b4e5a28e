//! Rebuilds the server when a migration is added or changed: `sqlx::migrate!`
//! embeds them, and cargo would not otherwise see a new file.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
