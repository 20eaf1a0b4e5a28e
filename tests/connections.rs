//! Saving a Site connection: tested first, the secret to the real OS keyring
//! (Secret Service inside the D-Bus session `cargo xtask test` provides),
//! the rest to the settings. Needs that session, so it is gated like the
//! end-to-end test.

use taskdeck_app::connections::{self, ConnectionDraft};
use taskdeck_app::credentials::SecretRef;
use taskdeck_app::settings::{Settings, SettingsFile};
use taskdeck_app::Error;

mod support;
use support::{config, ADMIN_ID, ADMIN_SECRET};

fn draft(url: &str, secret: &str) -> ConnectionDraft {
    ConnectionDraft {
        name: "Headquarters".to_owned(),
        server_url: url.to_owned(),
        client_id: ADMIN_ID.to_owned(),
        client_secret: secret.to_owned(),
        extra_ca_pem: None,
    }
}

#[tokio::test]
async fn a_connection_is_tested_then_saved_with_its_secret_in_the_keyring_only() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run through `cargo xtask test` (a D-Bus session with a keyring)"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = taskdeck_site::start(config(&dir.path().join("site"), "127.0.0.1:0", 1))
        .await
        .unwrap();
    let id = connections::new_connection_id();

    // A wrong secret: refused, and nothing stored.
    let refused = connections::save(&draft(&server.url(), "wrong"), &id)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Error::CredentialsRejected(_)),
        "{refused:?}"
    );
    let secret = SecretRef {
        connection_id: id.clone(),
        client_id: ADMIN_ID.to_owned(),
    };
    assert!(secret.load().is_err(), "nothing in the keyring");

    // The right one: saved; the secret is in the keyring, not the settings.
    let (saved, me) = connections::save(&draft(&server.url(), ADMIN_SECRET), &id)
        .await
        .unwrap();
    assert_eq!(me.email, "alice@example.com");
    assert_eq!(secret.load().unwrap(), ADMIN_SECRET);
    let file = SettingsFile::in_folder(&dir.path().join("config"));
    file.save(&Settings {
        connections: vec![saved.clone()],
        ..Settings::default()
    })
    .unwrap();
    let text = std::fs::read_to_string(file.path()).unwrap();
    assert!(text.contains(ADMIN_ID));
    assert!(!text.contains(ADMIN_SECRET), "{text}");

    // A client of the saved connection reads its secret from the keyring.
    let reloaded = file.load().settings.connections.remove(0);
    let client = connections::client_for(&reloaded).unwrap();
    assert_eq!(client.me().await.unwrap().email, "alice@example.com");

    // Removing forgets the secret.
    connections::forget_secret(&reloaded).unwrap();
    assert!(secret.load().is_err());
    connections::forget_secret(&reloaded).unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_site_keeps_one_secret_in_the_keyring_however_often_it_starts() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run through `cargo xtask test` (a D-Bus session with a keyring)"
    );
    let dir = tempfile::tempdir().unwrap();
    let filed = |demo: &taskdeck_app::demo_site::DemoConnection| SecretRef {
        connection_id: taskdeck_app::demo_site::DEMO_CONNECTION_ID.to_owned(),
        client_id: demo.demo.admin().client_id.clone(),
    };
    let first = taskdeck_app::demo_site::start(dir.path().to_owned())
        .await
        .unwrap();
    let first_secret = filed(&first);
    assert_eq!(
        first_secret.load().unwrap(),
        first.demo.admin().client_secret,
        "the first launch's secret is in the keyring"
    );
    assert_eq!(first.client.me().await.unwrap().sites.len(), 1);
    first.demo.stop().await;

    // The next launch: new credentials, and the last ones leave the keyring.
    let second = taskdeck_app::demo_site::start(dir.path().to_owned())
        .await
        .unwrap();
    let second_secret = filed(&second);
    assert_ne!(first_secret.client_id, second_secret.client_id);
    assert_eq!(
        second_secret.load().unwrap(),
        second.demo.admin().client_secret
    );
    assert!(
        first_secret.load().is_err(),
        "the first launch's secret is still in the keyring"
    );
    assert_eq!(second.client.me().await.unwrap().sites.len(), 1);
    second.demo.stop().await;
    second_secret.delete().unwrap();
}
