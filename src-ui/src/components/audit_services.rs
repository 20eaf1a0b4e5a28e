//! The Audit Services page: each service's slots, how many are busy, its
//! state and last heartbeat. Read when shown, then kept by the backend's
//! `site-object` events (no polling).

use leptos::prelude::*;
use leptos::task::spawn_local;
use site_api::{AuditService, AuditServiceState, AuditServicesResponse};
use taskdeck_ipc::{commands, events, SiteObject};

use crate::bridge;
use crate::format::age_text;

/// The shown Site's Audit Services, read when the Site is shown and then
/// kept by the backend's `site-object` events (no polling), with the last
/// error if they could not be read.
pub fn keep_audit_services(
    site_id: Signal<Option<String>>,
) -> (RwSignal<Vec<AuditService>>, RwSignal<Option<String>>) {
    let services = RwSignal::new(Vec::<AuditService>::new());
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if site_id.get().is_none() {
            return;
        }
        spawn_local(async move {
            match bridge::invoke::<AuditServicesResponse>(commands::AUDIT_SERVICES).await {
                Ok(read) => {
                    services.set(read.audit_services);
                    error.set(None);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    });
    spawn_local(async move {
        let _ = bridge::listen(events::SITE_OBJECT, move |object: SiteObject| {
            if let SiteObject::AuditService {
                site_id: site,
                audit_service,
            } = object
            {
                if site_id.get_untracked().as_deref() == Some(site.as_str()) {
                    services.update(|list| {
                        match list.iter_mut().find(|s| s.id == audit_service.id) {
                            Some(kept) => *kept = audit_service,
                            None => list.push(audit_service),
                        }
                    });
                }
            }
        })
        .await;
    });
    (services, error)
}

/// The page.
#[component]
pub fn AuditServicesPage(
    services: RwSignal<Vec<AuditService>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let now =
        move || chrono::DateTime::<chrono::Utc>::from_timestamp_millis(js_sys::Date::now() as i64);
    view! {
        <section class="page" data-testid="audit-services-page">
            <Show when=move || error.with(Option::is_some)>
                <div class="notice notice-error" role="alert">{move || error.get()}</div>
            </Show>
            <table class="tasks" aria-label="Audit Services">
                <thead>
                    <tr><th>"Audit Service"</th><th>"State"</th><th>"Slots busy"</th><th></th><th>"Last heartbeat"</th></tr>
                </thead>
                <tbody>
                    <For
                        each=move || services.get()
                        key=|s: &AuditService| (s.id.clone(), s.busy, s.slots, s.state == AuditServiceState::Online, s.last_heartbeat)
                        children=move |service: AuditService| {
                            let percent = (service.busy as u64 * 100).checked_div(service.slots as u64).unwrap_or(0);
                            let (class, state) = match service.state {
                                AuditServiceState::Online => ("chip chip-finished", "Online"),
                                AuditServiceState::Offline => ("chip chip-failed", "Offline"),
                            };
                            let heartbeat = service
                                .last_heartbeat
                                .and_then(|at| now().map(|now| age_text(now - at)))
                                .unwrap_or_else(|| "never".to_owned());
                            view! {
                                <tr data-testid="audit-service-row" data-audit-service-id=service.id.clone()>
                                    <td>{service.name.clone()}</td>
                                    <td><span class=class>{state}</span></td>
                                    <td class="numeric" data-testid="audit-service-busy">{format!("{} / {}", service.busy, service.slots)}</td>
                                    <td>
                                        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.to_string()>
                                            <div class="progress-bar" style:width=format!("{percent}%")></div>
                                        </div>
                                    </td>
                                    <td>{heartbeat}</td>
                                </tr>
                            }
                        }
                    />
                </tbody>
            </table>
        </section>
    }
}
