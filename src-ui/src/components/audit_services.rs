//! The Audit Services page: each service's runner, state and since when,
//! slots and how many are busy, last heartbeat (its age ticking), its
//! agent's address and version (remote services), and the tasks it runs.
//! Read when shown, then kept by the backend's `site-object` events (no
//! polling).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use site_api::{
    AuditService, AuditServiceState, AuditServicesResponse, RunnerKind, Signal as SiteSignal,
    TaskId,
};
use taskdeck_ipc::{commands, events, SignalsNow, SiteObject};

use crate::bridge;
use crate::format::age_text;

/// The shown Site's Audit Services, read when the Site is shown and then
/// kept by the backend's `site-object` events (no polling), with the last
/// error if they could not be read. Provided by `App`.
#[derive(Debug, Clone, Copy)]
pub struct Services {
    /// The services, as last heard of.
    pub list: RwSignal<Vec<AuditService>>,
    /// Why they could not be read.
    pub error: Signal<Option<String>>,
    /// Since when each has been online, as seen by this window.
    pub online_since: RwSignal<HashMap<String, DateTime<Utc>>>,
}

impl Services {
    /// Reads the services of the Site `site_id` names whenever it changes,
    /// and keeps them by the events.
    pub fn keep(site_id: Signal<Option<String>>) -> Services {
        let list = RwSignal::new(Vec::<AuditService>::new());
        let read = super::session::read_on(
            move || site_id.get(),
            |site| async move {
                match site {
                    None => Ok(None),
                    Some(_) => bridge::invoke::<AuditServicesResponse>(commands::AUDIT_SERVICES)
                        .await
                        .map(Some),
                }
            },
        );
        Effect::new(move |_| {
            if let Some(Ok(Some(read))) = read.get() {
                list.set(read.audit_services);
            }
        });
        let error = Signal::derive(move || read.get().and_then(Result::err));
        spawn_local(async move {
            let _ = bridge::listen(events::SITE_OBJECT, move |object: SiteObject| {
                if let SiteObject::AuditService {
                    site_id: site,
                    audit_service,
                } = object
                {
                    if site_id.get_untracked().as_deref() == Some(site.as_str()) {
                        list.update(|list| {
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
        Services {
            list,
            error,
            online_since: keep_online_since(list),
        }
    }

    /// Busy and total slots over every service (`None`: none known).
    pub fn slots(self) -> Signal<Option<(u32, u32)>> {
        let list = self.list;
        Signal::derive(move || {
            list.with(|services| {
                (!services.is_empty()).then(|| {
                    services
                        .iter()
                        .fold((0, 0), |(busy, total), s| (busy + s.busy, total + s.slots))
                })
            })
        })
    }
}

/// Since when each service has been online, as seen by this window: the
/// moment an `audit_service` event brought it online (the API tells no
/// start of a state; a service already online when the window opened has
/// no such moment, and its heartbeat age speaks for it).
fn keep_online_since(
    services: RwSignal<Vec<AuditService>>,
) -> RwSignal<HashMap<String, DateTime<Utc>>> {
    let since = RwSignal::new(HashMap::<String, DateTime<Utc>>::new());
    let last_state = StoredValue::new(HashMap::<String, AuditServiceState>::new());
    Effect::new(move |_| {
        let now = now_utc();
        services.with(|list| {
            for service in list {
                let before = last_state
                    .try_update_value(|states| states.insert(service.id.clone(), service.state))
                    .flatten();
                match (before, service.state) {
                    (Some(AuditServiceState::Offline), AuditServiceState::Online) => {
                        since.update(|map| {
                            map.insert(service.id.clone(), now);
                        });
                    }
                    (_, AuditServiceState::Offline) => since.update(|map| {
                        map.remove(&service.id);
                    }),
                    _ => {}
                }
            }
        });
    });
    since
}

fn now_utc() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// How a service runs its tasks, in words.
fn runner_text(runner: RunnerKind) -> &'static str {
    match runner {
        RunnerKind::Simulated => "Simulated",
        RunnerKind::Command => "Command",
        RunnerKind::Remote => "Remote agent",
    }
}

/// The page: one row per service, and under it the tasks it runs now.
#[component]
pub fn AuditServicesPage(
    signals: RwSignal<Option<SignalsNow>>,
    /// The service a banner pointed at: highlighted and scrolled to.
    focus: RwSignal<Option<String>>,
    /// Opens a task's detail.
    detail: RwSignal<Option<TaskId>>,
    /// Shows the Active tasks a service (its id) runs, as a filter.
    show_tasks: Callback<String>,
) -> impl IntoView {
    let Services {
        list: services,
        error,
        online_since,
    } = expect_context();
    // Heartbeat ages move on by themselves.
    let now = RwSignal::new(now_utc());
    if let Ok(ticker) = set_interval_with_handle(move || now.set(now_utc()), Duration::from_secs(1))
    {
        on_cleanup(move || ticker.clear());
    }
    let offline_since = move |id: &str| {
        signals.with(|signals| {
            signals.as_ref().and_then(|now| {
                now.signals.iter().find_map(|signal| match signal {
                    SiteSignal::AuditServiceOffline {
                        audit_service,
                        since,
                        ..
                    } if audit_service.id == id => Some(*since),
                    _ => None,
                })
            })
        })
    };
    // Scroll to the service a banner named, once it is on the page.
    Effect::new(move |_| {
        if focus.get().is_some() && !services.with(Vec::is_empty) {
            if let Some(row) = document()
                .query_selector("[data-testid='audit-service-row'][data-focused='true']")
                .ok()
                .flatten()
            {
                row.scroll_into_view();
            }
        }
    });
    view! {
        <section class="page" data-testid="audit-services-page">
            <Show when=move || error.with(Option::is_some)>
                <div class="notice notice-error" role="alert">{move || error.get()}</div>
            </Show>
            <table class="tasks audit-services" aria-label="Audit Services">
                <thead>
                    <tr>
                        <th>"Audit Service"</th>
                        <th>"Runner"</th>
                        <th>"State"</th>
                        <th>"Slots busy"</th>
                        <th></th>
                        <th>"Last heartbeat"</th>
                        <th>"Agent"</th>
                    </tr>
                </thead>
                <For
                    each=move || services.get()
                    key=|s: &AuditService| {
                        (s.id.clone(), s.busy, s.slots, s.state == AuditServiceState::Online,
                         s.last_heartbeat, s.address.clone(), s.version.clone())
                    }
                    children=move |service: AuditService| {
                        let id = service.id.clone();
                        let percent = (service.busy as u64 * 100).checked_div(service.slots as u64).unwrap_or(0);
                        let online = service.state == AuditServiceState::Online;
                        let (class, state) = match online {
                            true => ("chip chip-finished", "Online"),
                            false => ("chip chip-failed", "Offline"),
                        };
                        let state_since = {
                            let id = id.clone();
                            move || {
                                let at = match online {
                                    true => online_since.with(|map| map.get(&id).copied()),
                                    false => offline_since(&id),
                                };
                                at.map(|at| format!("since {}", age_text(now.get() - at)))
                                    .unwrap_or_default()
                            }
                        };
                        let last_heartbeat = service.last_heartbeat;
                        let heartbeat = move || {
                            last_heartbeat
                                .map(|at| age_text(now.get() - at))
                                .unwrap_or_else(|| "never".to_owned())
                        };
                        let agent = match (&service.address, &service.version) {
                            (Some(address), Some(version)) => format!("{address} · v{version}"),
                            (Some(address), None) => address.clone(),
                            (None, Some(version)) => format!("v{version}"),
                            (None, None) if service.runner == RunnerKind::Remote => "no agent yet".to_owned(),
                            (None, None) => "in the Site server".to_owned(),
                        };
                        let focused = {
                            let id = id.clone();
                            move || focus.with(|f| f.as_deref() == Some(id.as_str())).to_string()
                        };
                        let busy = service.busy;
                        view! {
                            <tbody data-testid="audit-service" data-audit-service-id=id.clone()>
                                <tr
                                    data-testid="audit-service-row"
                                    data-audit-service-id=id.clone()
                                    class={
                                        let focused = focused.clone();
                                        move || if focused() == "true" { "row-focus" } else { "" }
                                    }
                                    data-focused=focused
                                >
                                    <td>{service.name.clone()}<div class="muted">{id.clone()}</div></td>
                                    <td data-testid="audit-service-runner">{runner_text(service.runner)}</td>
                                    <td data-testid="audit-service-state">
                                        <span class=class>{state}</span>
                                        " "
                                        <span class="muted" data-testid="audit-service-since">{state_since}</span>
                                    </td>
                                    <td class="numeric" data-testid="audit-service-busy">{format!("{} / {}", service.busy, service.slots)}</td>
                                    <td>
                                        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.to_string()>
                                            <div class="progress-bar" style:width=format!("{percent}%")></div>
                                        </div>
                                    </td>
                                    <td data-testid="audit-service-heartbeat">{heartbeat}</td>
                                    <td data-testid="audit-service-agent">{agent}</td>
                                </tr>
                                {(busy > 0).then(|| view! { <ServiceTasks audit_service=id.clone() detail=detail show_tasks=show_tasks /> })}
                            </tbody>
                        }
                    }
                />
            </table>
        </section>
    }
}

/// The tasks one service runs now, read when its row is shown (its row is
/// shown afresh whenever its busy slots change).
#[component]
fn ServiceTasks(
    audit_service: String,
    detail: RwSignal<Option<TaskId>>,
    show_tasks: Callback<String>,
) -> impl IntoView {
    let service = audit_service.clone();
    let tasks = LocalResource::new(move || {
        let service = service.clone();
        async move {
            bridge::request(&taskdeck_ipc::request::AuditServiceTasks {
                audit_service: service,
            })
            .await
            .map(|page| page.tasks)
            .map_err(|e| e.to_string())
        }
    });
    view! {
        <tr class="service-tasks">
            <td colspan="7">
                <ul class="chips" data-testid="audit-service-tasks" aria-label=format!("Tasks {audit_service} runs")>
                    {move || match tasks.get() {
                        None => view! { <li class="muted">"Reading its tasks…"</li> }.into_any(),
                        Some(Err(error)) => view! { <li class="notice-error">{error}</li> }.into_any(),
                        Some(Ok(list)) => list
                            .into_iter()
                            .map(|task| {
                                let id = task.id;
                                let text = format!("{} · {}", task.id.label(), task.target.name);
                                view! {
                                    <li>
                                        <button
                                            class="chip"
                                            data-testid="audit-service-task"
                                            data-task-id=id.to_string()
                                            on:click=move |_| detail.set(Some(id))
                                        >
                                            {text}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()
                            .into_any(),
                    }}
                    <li>
                        <button
                            class="link-button"
                            data-testid="audit-service-show-tasks"
                            title="The Active tasks list, filtered to the tasks this service runs"
                            on:click={
                                let id = audit_service.clone();
                                move |_| show_tasks.run(id.clone())
                            }
                        >
                            "Show in Active tasks"
                        </button>
                    </li>
                </ul>
            </td>
        </tr>
    }
}
