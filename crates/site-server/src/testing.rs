//! The test Site configuration that the server's own tests and the
//! desktop's tests share (feature `testing`, on by default; the desktop
//! binary goes without it): Site `hq` with one simulated Audit Service, an
//! administrator, a read-only user and an expired registration, with the
//! secrets below.

use crate::config::{Config, Store};

/// The administrator's (Alice's) client id and secret.
pub const ADMIN_ID: &str = "client-admin-0000001";
/// See [`ADMIN_ID`].
pub const ADMIN_SECRET: &str = "admin-secret";
/// The Site User's (Bob's) client id and secret.
pub const USER_ID: &str = "client-user-00000001";
/// See [`USER_ID`].
pub const USER_SECRET: &str = "user-secret";
/// A registration of Bob's that expired in 2020 (secret [`USER_SECRET`]).
pub const EXPIRED_ID: &str = "client-expired-00001";

/// What a test chooses of its Site.
#[derive(Debug, Clone)]
pub struct TestSite {
    /// Where the server keeps its state.
    pub store: Store,
    /// The address it listens on (`127.0.0.1:0`: a free port).
    pub listen: String,
    /// `test` (simulated tasks allowed) or `production`.
    pub mode: String,
    /// Slots of `hq`'s Audit Service `as-1`.
    pub slots: u32,
    /// Also Site `branch-2` (which labels failures `finished`, with Alice
    /// its administrator) and `secret-site` (no one's).
    pub more_sites: bool,
    /// The revision of the API it answers with (`"1.0"`: a Site that does
    /// not know 1.1's parameters).
    pub api_revision: &'static str,
}

impl TestSite {
    /// Site `hq` alone, in test mode, on a free port, stored under `store`.
    pub fn new(store: Store, slots: u32) -> TestSite {
        TestSite {
            store,
            listen: "127.0.0.1:0".to_owned(),
            mode: "test".to_owned(),
            slots,
            more_sites: false,
            api_revision: "1.1",
        }
    }

    /// The configuration as a file would hold it.
    pub fn config_text(&self) -> String {
        let store = match &self.store {
            Store::Sqlite(dir) => format!("data_dir = {:?}", dir.display().to_string()),
            #[cfg(feature = "postgres")]
            Store::Postgres(url) => format!("database_url = {url:?}"),
        };
        let (more_sites, alice_roles) = if self.more_sites {
            (
                r#"
[[sites]]
id = "branch-2"
name = "Branch 2"
failed_label = "finished"

[[sites.audit_services]]
id = "as-9"
name = "AS-9"
slots = 2

[[sites]]
id = "secret-site"
name = "Secret"
"#,
                r#"{ hq = "site_administrator", branch-2 = "site_administrator" }"#,
            )
        } else {
            ("", r#"{ hq = "site_administrator" }"#)
        };
        let hash = |secret| crate::hash_secret(secret).expect("argon2 hashes a test secret");
        format!(
            r#"
listen = "{listen}"
{store}
mode = "{mode}"
api_revision = "{api_revision}"
# Tests poll hard; a test of the budget sets its own.
rate_limit_per_minute = 100000

[[sites]]
id = "hq"
name = "Headquarters"

[[sites.audit_services]]
id = "as-1"
name = "AS-1"
slots = {slots}
{more_sites}
[[users]]
email = "alice@example.com"
display_name = "Alice"
roles = {alice_roles}

[[users]]
email = "bob@example.com"
display_name = "Bob"
roles = {{ hq = "site_user" }}

[[app_registrations]]
client_id = "{ADMIN_ID}"
client_secret_hash = "{admin_hash}"
owner = "alice@example.com"
name = "Alice's laptop"

[[app_registrations]]
client_id = "{USER_ID}"
client_secret_hash = "{user_hash}"
owner = "bob@example.com"
name = "Bob's laptop"

[[app_registrations]]
client_id = "{EXPIRED_ID}"
client_secret_hash = "{user_hash}"
owner = "bob@example.com"
name = "Old"
expires_at = "2020-01-01T00:00:00Z"
"#,
            listen = self.listen,
            mode = self.mode,
            api_revision = self.api_revision,
            slots = self.slots,
            admin_hash = hash(ADMIN_SECRET),
            user_hash = hash(USER_SECRET),
        )
    }

    /// The configuration, parsed and validated.
    pub fn config(&self) -> Config {
        let config: Config =
            toml::from_str(&self.config_text()).expect("the test configuration parses");
        config.validate().expect("the test configuration is valid");
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_parse_and_validate() {
        let dir = std::path::PathBuf::from("/tmp/taskdeck-test-site");
        let mut site = TestSite::new(Store::Sqlite(dir), 3);
        assert_eq!(site.config().sites.len(), 1);
        site.more_sites = true;
        let config = site.config();
        let ids: Vec<&str> = config.sites.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["hq", "branch-2", "secret-site"]);
    }
}
