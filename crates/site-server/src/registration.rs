//! `taskdeck-site app-registration create`: new client credentials, and the
//! configuration block that holds only the secret's hash.

use std::io::Write;
use std::path::Path;

use site_api::Timestamp;

use crate::config::Config;
use crate::{hash_secret, new_client_id, new_client_secret};

/// A registration just made.
#[derive(Debug, Clone)]
pub struct CreatedRegistration {
    /// Its client id.
    pub client_id: String,
    /// Its secret, in the clear: shown once, stored nowhere.
    pub client_secret: String,
    /// The `[[app_registrations]]` block for the configuration file.
    pub toml: String,
}

/// Parses `--expires`: a date (midnight UTC) or an RFC 3339 time.
pub fn parse_expiry(text: &str) -> Result<Timestamp, String> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
        .ok_or_else(|| format!("--expires {text:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

/// Makes a registration for `owner`; with `config`, checks the owner is a
/// user there and appends the block to the file.
pub fn create(
    owner: &str,
    name: &str,
    expires_at: Option<Timestamp>,
    config: Option<&Path>,
) -> Result<CreatedRegistration, String> {
    if name.trim().is_empty() {
        return Err("--name must not be empty".to_owned());
    }
    if let Some(path) = config {
        let loaded = Config::load(path).map_err(|e| e.to_string())?;
        if !loaded.users.iter().any(|user| user.email == owner) {
            return Err(format!(
                "{owner:?} is not a user in {}; add it under [[users]] first",
                path.display()
            ));
        }
    }
    let client_id = new_client_id();
    let client_secret = new_client_secret();
    let hash = hash_secret(&client_secret)?;
    let mut toml = format!(
        "[[app_registrations]]\nclient_id = {}\nclient_secret_hash = {}\nowner = {}\nname = {}\n",
        quote(&client_id),
        quote(&hash),
        quote(owner),
        quote(name)
    );
    if let Some(expires_at) = expires_at {
        toml.push_str(&format!(
            "expires_at = {}\n",
            quote(&expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        ));
    }
    if let Some(path) = config {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        file.write_all(format!("\n{toml}").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        // The file must still load: a broken configuration is worse than none.
        Config::load(path).map_err(|e| e.to_string())?;
    }
    Ok(CreatedRegistration {
        client_id,
        client_secret,
        toml,
    })
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_takes_dates_and_times() {
        assert_eq!(
            parse_expiry("2027-12-31").unwrap().to_rfc3339(),
            "2027-12-31T00:00:00+00:00"
        );
        assert_eq!(
            parse_expiry("2027-12-31T12:30:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2027-12-31T10:30:00+00:00"
        );
        assert!(parse_expiry("next year").is_err());
    }

    #[test]
    fn the_block_holds_the_hash_not_the_secret() {
        let created = create("a@b.c", "Laptop \"1\"", None, None).unwrap();
        assert!(!created.toml.contains(&created.client_secret));
        let parsed: toml::Value = toml::from_str(&created.toml).unwrap();
        let entry = &parsed["app_registrations"][0];
        assert_eq!(
            entry["client_id"].as_str(),
            Some(created.client_id.as_str())
        );
        assert_eq!(entry["name"].as_str(), Some("Laptop \"1\""));
        assert!(crate::auth::verify_secret(
            &created.client_secret,
            entry["client_secret_hash"].as_str().unwrap()
        ));
    }
}
