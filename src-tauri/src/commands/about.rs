//! Commands about the app itself: its versions, and opening a link.

use taskdeck_ipc::request::{self, Request};
use tauri::AppHandle;

use crate::error::Error;

/// Versions, for the About dialog.
#[tauri::command]
pub(crate) fn about() -> taskdeck_ipc::About {
    taskdeck_ipc::About {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        tauri: tauri::VERSION.to_owned(),
        site_server: taskdeck_site::VERSION.to_owned(),
        api: "v1".to_owned(),
        homepage: env!("CARGO_PKG_REPOSITORY").to_owned(),
        licence: env!("CARGO_PKG_LICENSE").to_owned(),
    }
}

/// Opens `url` in the user's browser (the About dialog's links). Only
/// http and https: the window can never make the desktop open a file or
/// run a program through this.
#[tauri::command]
pub(crate) fn open_link(
    app: AppHandle,
    request: request::OpenLink,
) -> Result<<request::OpenLink as Request>::Answer, Error> {
    let request::OpenLink { url } = request;
    let link = web_link(&url)?;
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_url(link.as_str(), None::<&str>)
        .map_err(|e| Error::Desktop(format!("{link}: {e}")))
}

/// `url` if it is an http or https link.
pub(crate) fn web_link(url: &str) -> Result<url::Url, Error> {
    let link = url::Url::parse(url.trim())
        .map_err(|e| Error::InvalidInput(format!("{url:?} is not a link: {e}")))?;
    match link.scheme() {
        "http" | "https" => Ok(link),
        other => Err(Error::InvalidInput(format!(
            "only web links open from Taskdeck, not {other}: links"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_open() {
        assert_eq!(
            web_link(" https://github.com/taskdeck/taskdeck ")
                .unwrap()
                .as_str(),
            "https://github.com/taskdeck/taskdeck"
        );
        assert!(web_link("http://127.0.0.1:8443/api/v1/openapi.json").is_ok());
        for refused in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "smb://host/share",
            "not a link",
        ] {
            assert!(
                matches!(web_link(refused), Err(Error::InvalidInput(_))),
                "{refused}"
            );
        }
    }
}
