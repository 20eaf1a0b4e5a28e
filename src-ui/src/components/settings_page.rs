//! The Settings page: which failures raise a notification (on/off, only
//! mine, per Site, running long) and the theme. Each change is saved by the
//! backend, durably, before it answers.

use leptos::prelude::*;
use taskdeck_ipc::{commands, NotifySettings, SiteChoice, Theme};

use crate::bridge;
use taskdeck_ipc::request;

/// Shows `theme` in the window (`data-theme` on the root element).
pub fn apply_theme(theme: Theme) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
}

/// The page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let notify = RwSignal::new(None::<NotifySettings>);
    let theme = RwSignal::new(Theme::System);
    let sites = RwSignal::new(Vec::<SiteChoice>::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    let session = super::session::Session::get();
    let read_notify =
        LocalResource::new(|| bridge::invoke::<NotifySettings>(commands::NOTIFICATION_SETTINGS));
    let read_theme = LocalResource::new(|| bridge::invoke::<Theme>(commands::THEME));
    let read_sites = super::session::read_on(
        move || session.sites_changed.get(),
        |_| bridge::invoke::<Vec<SiteChoice>>(commands::SITES),
    );
    Effect::new(move |_| {
        if let Some(Ok(read)) = read_notify.get() {
            notify.set(Some(read));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(read)) = read_theme.get() {
            theme.set(read);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(read)) = read_sites.get() {
            sites.set(read);
        }
    });
    // Saves the settings; they are shown once the backend has kept them.
    let saving = Action::new_local(|next: &NotifySettings| {
        let next = next.clone();
        async move {
            bridge::send(request::SetNotificationSettings {
                settings: next.clone(),
            })
            .await
            .map(|()| next)
            .map_err(|e| e.to_string())
        }
    });
    Effect::new(move |_| match saving.value().get() {
        Some(Ok(saved)) => {
            notify.set(Some(saved));
            message.set(Some(Ok("Saved.".to_owned())));
        }
        Some(Err(e)) => message.set(Some(Err(e))),
        None => {}
    });
    let save = move |change: Box<dyn FnOnce(&mut NotifySettings)>| {
        let Some(mut next) = notify.get_untracked() else {
            return;
        };
        change(&mut next);
        saving.dispatch(next);
    };
    let flag = move |label: &'static str,
                     testid: &'static str,
                     get: fn(&NotifySettings) -> bool,
                     set: fn(&mut NotifySettings, bool)| {
        view! {
            <label class="filter-option">
                <input
                    type="checkbox"
                    data-testid=testid
                    prop:checked=move || notify.with(|n| n.as_ref().is_some_and(get))
                    on:change=move |event| {
                        let on = event_target_checked(&event);
                        save(Box::new(move |n| set(n, on)));
                    }
                />
                {label}
            </label>
        }
    };
    let set_theme = super::session::request_action::<request::SetTheme>();
    Effect::new(move |_| {
        if let Some(Err(e)) = set_theme.value().get() {
            message.set(Some(Err(e)));
        }
    });
    let choose_theme = move |chosen: Theme| {
        apply_theme(chosen);
        theme.set(chosen);
        set_theme.dispatch(request::SetTheme { theme: chosen });
    };
    view! {
        <section class="page settings-page" data-testid="settings-page">
            <h2>"Notifications"</h2>
            <fieldset class="settings-group">
                {flag("Notify me when a task fails", "setting-notify-enabled", |n| n.enabled, |n, on| n.enabled = on)}
                {flag("Only for tasks I started", "setting-notify-only-mine", |n| n.only_mine, |n, on| n.only_mine = on)}
                {flag("Also when a task runs for too long", "setting-notify-running-long", |n| n.running_long, |n, on| n.running_long = on)}
            </fieldset>
            <h3>"Sites"</h3>
            <fieldset class="settings-group">
                <For
                    each=move || sites.get()
                    key=|choice: &SiteChoice| (choice.connection_id.clone(), choice.site.id.clone())
                    children=move |choice: SiteChoice| {
                        let site = choice.site.id.clone();
                        let muted = {
                            let site = site.clone();
                            move || notify.with(|n| n.as_ref().is_some_and(|n| n.muted_sites.contains(&site)))
                        };
                        view! {
                            <label class="filter-option">
                                <input
                                    type="checkbox"
                                    data-testid=format!("setting-notify-site-{}", choice.site.id)
                                    prop:checked=move || !muted()
                                    on:change=move |event| {
                                        let on = event_target_checked(&event);
                                        let site = site.clone();
                                        save(Box::new(move |n| {
                                            n.muted_sites.retain(|s| *s != site);
                                            if !on {
                                                n.muted_sites.push(site);
                                            }
                                        }));
                                    }
                                />
                                {format!("{} — {}", choice.connection_name, choice.site.name)}
                            </label>
                        }
                    }
                />
            </fieldset>
            <h2>"Theme"</h2>
            <fieldset class="settings-group">
                {[(Theme::System, "As the system"), (Theme::Light, "Light"), (Theme::Dark, "Dark")].into_iter().map(|(value, label)| view! {
                    <label class="filter-option">
                        <input type="radio" name="theme" data-testid=format!("setting-theme-{}", value.as_str())
                            prop:checked=move || theme.get() == value
                            on:change=move |_| choose_theme(value) />
                        {label}
                    </label>
                }).collect_view()}
            </fieldset>
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice notice-ok" role="status" data-testid="settings-saved">{text}</p> }.into_any(),
                Err(text) => view! { <p class="notice notice-error" role="alert">{text}</p> }.into_any(),
            })}
        </section>
    }
}
