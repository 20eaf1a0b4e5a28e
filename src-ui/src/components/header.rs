//! The title bar: the page, the Site and who the app acts as.

use leptos::prelude::*;
use site_api::SiteRole;
use taskdeck_ipc::ConnectionStatus;

use super::pages::Page;

/// The breadcrumb (the Site, the page shown) and who the app acts as.
#[component]
pub fn Header(status: RwSignal<Option<ConnectionStatus>>, page: RwSignal<Page>) -> impl IntoView {
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
                <h1 data-testid="page-title">{move || page.get().title()}</h1>
            </div>
            <div class="who" data-testid="identity">{who}</div>
            <super::connections::AddConnection />
            <AboutButton status=status />
        </header>
    }
}

/// "About": the app's name, versions and the shown Site's API document.
#[component]
fn AboutButton(status: RwSignal<Option<ConnectionStatus>>) -> impl IntoView {
    let open = RwSignal::new(false);
    // Read when the dialog first opens (what it says does not change).
    let about = super::session::read_on(
        move || open.get(),
        |open| async move {
            match open {
                true => crate::bridge::invoke::<taskdeck_ipc::About>(taskdeck_ipc::commands::ABOUT)
                    .await
                    .map(Some),
                false => Ok(None),
            }
        },
    );
    let about = move || about.get().and_then(Result::ok).flatten();
    let opening = super::session::request_action::<taskdeck_ipc::request::OpenLink>();
    let link_error = move || opening.value().get().and_then(Result::err);
    let open_link = move |url: String| {
        opening.dispatch(taskdeck_ipc::request::OpenLink { url });
    };
    let show = move |_| open.set(true);
    let api_document = move || {
        status.with(|s| {
            s.as_ref()
                .and_then(|s| s.server_url.clone())
                .map(|url| format!("{}/api/v1/openapi.json", url.trim_end_matches('/')))
        })
    };
    view! {
        <button class="button" data-testid="about-button" on:click=show>"About"</button>
        <Show when=move || open.get()>
            <div class="dialog-backdrop">
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="about-title" data-testid="about-dialog">
                    <h2 id="about-title">"Taskdeck"</h2>
                    <p>"The Active tasks console for Scan and Audit Sites."</p>
                    {move || about().map(|a| view! {
                        <dl class="detail-fields">
                            <dt>"Version"</dt><dd data-testid="about-version">{a.version}</dd>
                            <dt>"Tauri"</dt><dd>{a.tauri}</dd>
                            <dt>"Demo Site server"</dt><dd>{format!("taskdeck-site {}", a.site_server)}</dd>
                            <dt>"Site task API"</dt><dd>{a.api}</dd>
                            <dt>"Licence"</dt><dd data-testid="about-licence">{a.licence}</dd>
                            <dt>"Project"</dt>
                            <dd>
                                <button class="link-button" data-testid="about-homepage" on:click={
                                    let homepage = a.homepage.clone();
                                    move |_| open_link(homepage.clone())
                                }>{a.homepage.clone()}</button>
                            </dd>
                        </dl>
                    })}
                    {move || api_document().map(|url| view! {
                        <p class="hint">
                            "The shown Site's API, described: "
                            <button class="link-button" data-testid="about-api-document" on:click={
                                let url = url.clone();
                                move |_| open_link(url.clone())
                            }>{url.clone()}</button>
                        </p>
                    })}
                    <Show when=move || link_error().is_some()>
                        <p class="notice notice-error" role="alert">{link_error}</p>
                    </Show>
                    <div class="dialog-buttons">
                        <button class="button" data-testid="about-close" on:click=move |_| open.set(false)>"Close"</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
