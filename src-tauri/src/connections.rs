//! Site connections: a server URL, an app registration (client id + secret)
//! and an optional extra CA. Testing fetches a token and `/me` before
//! anything is saved; saving puts the secret in the OS keyring (read back to
//! prove it stayed) and the rest in the settings. Without a usable keyring a
//! connection cannot be saved: there is no fallback to a file.

use site_api::Me;
use url::Url;

use crate::credentials::SecretRef;
use crate::error::{Error, Result};
use crate::settings::ConnectionSettings;
use crate::site_client::{SecretSource, SiteClient};

pub use taskdeck_ipc::request::ConnectionDraft;

/// Checks what can be checked without the network.
pub fn validate(draft: &ConnectionDraft) -> Result<Url> {
    let invalid = |why: &str| Error::InvalidInput(why.to_owned());
    let url = Url::parse(draft.server_url.trim())
        .map_err(|e| Error::InvalidInput(format!("The server URL is not valid: {e}.")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(invalid(
            "The server URL must start with https:// (or http://).",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "Put the client id and secret in their own fields, not in the URL.",
        ));
    }
    let id = draft.client_id.trim();
    if id.is_empty() || id.len() > 128 || id.chars().any(char::is_whitespace) {
        return Err(invalid("The client id is missing or not valid."));
    }
    if draft.client_secret.is_empty() {
        return Err(invalid("The client secret is missing."));
    }
    Ok(url)
}

/// Fetches a token and `/me` with these credentials; stores nothing.
pub async fn test(draft: &ConnectionDraft) -> Result<Me> {
    let url = validate(draft)?;
    test_at(draft, url).await
}

/// [`test`] with the URL already validated.
async fn test_at(draft: &ConnectionDraft, url: Url) -> Result<Me> {
    let client = SiteClient::new(
        url,
        draft.client_id.trim().to_owned(),
        SecretSource::Memory(draft.client_secret.clone()),
        draft.extra_ca_pem.as_deref(),
    )?;
    client.me().await
}

/// Tests, then saves: the secret to the keyring under `id`, the rest
/// returned for the settings.
pub async fn save(draft: &ConnectionDraft, id: &str) -> Result<(ConnectionSettings, Me)> {
    let url = validate(draft)?;
    let me = test_at(draft, url.clone()).await?;
    let name = match draft.name.trim() {
        "" => default_name(&me, &url),
        name => name.to_owned(),
    };
    let secret = SecretRef {
        connection_id: id.to_owned(),
        client_id: draft.client_id.trim().to_owned(),
    };
    let value = draft.client_secret.clone();
    tokio::task::spawn_blocking(move || store_and_check(&secret, &value)).await??;
    Ok((
        ConnectionSettings {
            id: id.to_owned(),
            name,
            server_url: draft.server_url.trim().to_owned(),
            client_id: draft.client_id.trim().to_owned(),
            extra_ca_pem: draft
                .extra_ca_pem
                .clone()
                .filter(|pem| !pem.trim().is_empty()),
        },
        me,
    ))
}
/// The name of a connection the user left unnamed: its Site's name when
/// the registration sees one Site, else the server's host (and port).
pub fn default_name(me: &Me, server: &Url) -> String {
    match me.sites.as_slice() {
        [site] if !site.name.trim().is_empty() => site.name.trim().to_owned(),
        _ => {
            let host = server.host_str().unwrap_or("Site server");
            match server.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            }
        }
    }
}

/// A client of a saved connection; its secret is read from the keyring
/// when a token is needed.
pub fn client_for(connection: &ConnectionSettings) -> Result<SiteClient> {
    let url = Url::parse(&connection.server_url)
        .map_err(|e| Error::InvalidInput(format!("The saved server URL is not valid: {e}.")))?;
    SiteClient::new(
        url,
        connection.client_id.clone(),
        SecretSource::Keyring(secret_of(connection)),
        connection.extra_ca_pem.as_deref(),
    )
}

/// Removes a connection's secret from the keyring (blocking).
pub fn forget_secret(connection: &ConnectionSettings) -> Result<()> {
    secret_of(connection).delete()
}

/// The saved client secret of a connection, read from the OS keyring.
pub fn saved_secret(connection: &ConnectionSettings) -> Result<String> {
    secret_of(connection).load()
}

fn secret_of(connection: &ConnectionSettings) -> SecretRef {
    SecretRef {
        connection_id: connection.id.clone(),
        client_id: connection.client_id.clone(),
    }
}

/// Stores the secret and reads it back: a keyring that accepts but does not
/// keep (an in-memory mock) is no keyring.
pub fn store_and_check(secret: &SecretRef, value: &str) -> Result<()> {
    secret.store(value)?;
    if secret.load()? != value {
        return Err(Error::Keyring(
            "the keyring did not return the secret it was given".to_owned(),
        ));
    }
    Ok(())
}

/// A new connection id: short, unique, safe in a keyring account name.
pub fn new_connection_id() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("c{nanos:x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ConnectionDraft {
        ConnectionDraft {
            name: "HQ".to_owned(),
            server_url: "https://site.example:8443".to_owned(),
            client_id: "abcdefghijklmnopqrst".to_owned(),
            client_secret: "s3cret".to_owned(),
            extra_ca_pem: None,
        }
    }

    #[test]
    fn drafts_are_checked_before_any_request() {
        assert!(validate(&draft()).is_ok());
        type Breakage = fn(&mut ConnectionDraft);
        let cases: [(Breakage, &str); 4] = [
            (|d| d.server_url = "site.example".to_owned(), "not valid"),
            (
                |d| d.server_url = "ftp://site.example".to_owned(),
                "https://",
            ),
            (
                |d| d.server_url = "https://id:pw@site.example".to_owned(),
                "own fields",
            ),
            (|d| d.client_id = "has space".to_owned(), "client id"),
        ];
        for (break_it, expected) in cases {
            let mut broken = draft();
            break_it(&mut broken);
            let error = validate(&broken).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn an_unnamed_connection_takes_its_sites_name_or_the_servers_host() {
        let unnamed = ConnectionDraft {
            name: "  ".to_owned(),
            ..draft()
        };
        assert!(validate(&unnamed).is_ok(), "the name is optional");
        let site = |id: &str, name: &str| site_api::SiteMembership {
            id: id.to_owned(),
            name: name.to_owned(),
            role: site_api::SiteRole::SiteUser,
        };
        let me = |sites| Me {
            email: "a@example.com".to_owned(),
            display_name: "A".to_owned(),
            client_id: "abcdefghijklmnopqrst".to_owned(),
            sites,
        };
        let url = Url::parse("https://site.example:8443").unwrap();
        assert_eq!(
            default_name(&me(vec![site("hq", "Headquarters")]), &url),
            "Headquarters"
        );
        let two = me(vec![site("hq", "Headquarters"), site("b2", "Branch 2")]);
        assert_eq!(default_name(&two, &url), "site.example:8443");
        let plain = Url::parse("https://sites.corp.example").unwrap();
        assert_eq!(default_name(&me(vec![]), &plain), "sites.corp.example");
    }

    #[test]
    fn a_draft_never_prints_its_secret() {
        assert!(!format!("{:?}", draft()).contains("s3cret"));
    }
}
