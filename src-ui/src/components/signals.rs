//! Signal banners: a long queue, a task running for hours, an Audit Service
//! offline, as the Site reports them. A task running long can be opened
//! ("Investigate") or, by an administrator, cancelled from its banner.

use leptos::prelude::*;
use site_api::{Signal as SiteSignal, TaskId};
use taskdeck_ipc::SignalsNow;

/// One banner per signal in force.
#[component]
pub fn Signals(
    signals: RwSignal<Option<SignalsNow>>,
    is_admin: Signal<bool>,
    ask: RwSignal<Option<Vec<TaskId>>>,
    detail: RwSignal<Option<TaskId>>,
    /// Opens the Audit Services page, at the service a banner names (from
    /// a long queue's banner: at none).
    open_audit_services: Callback<Option<String>>,
) -> impl IntoView {
    let list = move || signals.with(|s| s.as_ref().map(|s| s.signals.clone()).unwrap_or_default());
    view! {
        <div class="signals" aria-live="polite">
            <For
                each=list
                key=|signal| format!("{signal:?}")
                children=move |signal: SiteSignal| {
                    let task = match &signal {
                        SiteSignal::TaskRunningLong { task, .. } => Some(*task),
                        _ => None,
                    };
                    let services = match &signal {
                        SiteSignal::QueueLong { .. } => Some((None, "Audit Services".to_owned())),
                        SiteSignal::AuditServiceOffline { audit_service, .. } => Some((
                            Some(audit_service.id.clone()),
                            format!("Show {}", audit_service.name),
                        )),
                        SiteSignal::TaskRunningLong { .. } => None,
                    };
                    view! {
                        <div
                            class=format!("notice notice-warning signal signal-{}", signal.kind())
                            role="status"
                            data-testid="signal-banner"
                            data-kind=signal.kind()
                        >
                            {signal.message().to_owned()}
                            {services.map(|(service, label)| view! {
                                <span class="signal-actions">
                                    <button
                                        class="button"
                                        data-testid="signal-audit-services"
                                        data-audit-service-id=service.clone()
                                        on:click=move |_| open_audit_services.run(service.clone())
                                    >
                                        {label}
                                    </button>
                                </span>
                            })}
                            {task.map(|task| view! {
                                <span class="signal-actions">
                                    <button class="button" data-testid="signal-investigate" on:click=move |_| detail.set(Some(task))>
                                        "Investigate"
                                    </button>
                                    <Show when=move || is_admin.get()>
                                        <button class="button button-danger" data-testid="signal-cancel" on:click=move |_| ask.set(Some(vec![task]))>
                                            {format!("Cancel {}", task.label())}
                                        </button>
                                    </Show>
                                </span>
                            })}
                        </div>
                    }
                }
            />
        </div>
    }
}
