//! The title bar: the page, the Site and who the app acts as.

use leptos::prelude::*;
use site_api::SiteRole;
use taskdeck_ipc::ConnectionStatus;

/// The page title with the Site's name and the user's role.
#[component]
pub fn Header(status: RwSignal<Option<ConnectionStatus>>) -> impl IntoView {
    let site_name = move || {
        status.with(|s| {
            s.as_ref()
                .and_then(|s| s.site.as_ref().map(|site| site.name.clone()))
                .or_else(|| s.as_ref().map(|s| s.connection_name.clone()))
                .unwrap_or_default()
        })
    };
    let who = move || {
        status.with(|s| {
            let s = s.as_ref()?;
            let identity = s.identity.as_ref()?;
            let role = match s.site.as_ref()?.role {
                SiteRole::SiteAdministrator => "Site Administrator",
                SiteRole::SiteUser => "Site User (read-only)",
            };
            Some(format!("{} · {role}", identity.email))
        })
    };
    view! {
        <header class="topbar">
            <div class="brand">
                <img src="icon.png" alt="" width="22" height="22" />
                <span>"Taskdeck"</span>
            </div>
            <div class="crumbs">
                <span class="site" data-testid="site-name">{site_name}</span>
                <super::site_switcher::SiteSwitcher status=status />
                <span class="sep">"›"</span>
                <h1>"Active tasks"</h1>
            </div>
            <div class="who" data-testid="identity">{who}</div>
            <super::connections::AddConnection />
        </header>
    }
}
