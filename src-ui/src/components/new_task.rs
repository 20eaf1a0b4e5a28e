//! "New task": the toolbar button and its dialog, which starts an ad-hoc
//! scan or audit on the shown Site (`POST …/tasks`; both roles may). The
//! target and scope fields suggest what the Site has seen lately and its
//! most common scopes; the new task is selected once it is in the list.

use leptos::prelude::*;
use site_api::{CreateTaskRequest, FacetField, LogQuery, Target, TargetType, Task, TaskKind};
use taskdeck_ipc::{request, ListQuery};

use super::session::{read_on, request_action, Session};
use super::ListState;
use crate::bridge;
use crate::suggest;

/// How long the notice of a started task stays.
const STARTED_NOTICE_FOR: std::time::Duration = std::time::Duration::from_secs(8);

/// The button, its dialog, and the notice of what was started.
#[component]
pub fn NewTask() -> impl IntoView {
    let session = Session::get();
    let ListState { selected, .. } = expect_context();
    let open = RwSignal::new(false);
    let kind = RwSignal::new(TaskKind::Scan);
    let target_type = RwSignal::new(TargetType::Device);
    let target = RwSignal::new(String::new());
    let scope = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let started = RwSignal::new(None::<String>);

    // What the Site has seen lately: its queue, and its log of the kind
    // chosen (read while the dialog is open); the scopes it counts most.
    let log = read_on(
        move || open.get().then(|| kind.get()),
        |kind| async move {
            match kind {
                None => Ok(None),
                Some(kind) => bridge::send(request::LogEntries {
                    kind,
                    query: LogQuery::default(),
                })
                .await
                .map(Some),
            }
        },
    );
    let scope_facet = read_on(
        move || open.get(),
        |open| async move {
            match open {
                false => Ok(None),
                true => bridge::send(request::TaskFacets {
                    query: ListQuery::default(),
                    fields: vec![FacetField::Scope],
                })
                .await
                .map(|mut facets| facets.pop()),
            }
        },
    );
    let recent = Memo::new(move |_| {
        let mut tasks: Vec<Task> = session
            .snapshot
            .with(|s| s.as_ref().map(|s| s.page.tasks.clone()).unwrap_or_default());
        if let Some(Ok(Some(log))) = log.get() {
            tasks.extend(log.entries.into_iter().map(|entry| entry.task));
        }
        tasks
    });
    let target_suggestions = Memo::new(move |_| {
        recent
            .with(|recent| target.with(|typed| suggest::targets(recent, target_type.get(), typed)))
    });
    let scope_suggestions = Memo::new(move |_| {
        let facet = scope_facet.get().and_then(Result::ok).flatten();
        recent.with(|recent| {
            target.with(|target| {
                scope.with(|typed| suggest::scopes(recent, facet.as_ref(), target, typed))
            })
        })
    });

    let run = request_action::<request::RunTasks>();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (name, covered) = (target.get_untracked(), scope.get_untracked());
        let problem_now = match (name.trim().is_empty(), covered.trim().is_empty()) {
            (true, _) => Some("Name the device, segment or cloud resource to act on."),
            (false, true) => Some("Give the scope: the Segment or device set it covers."),
            _ => None,
        };
        problem.set(problem_now.map(str::to_owned));
        if problem_now.is_some() {
            return;
        }
        run.dispatch(request::RunTasks {
            tasks: vec![CreateTaskRequest {
                kind: kind.get_untracked(),
                target: Target {
                    target_type: target_type.get_untracked(),
                    name: name.trim().to_owned(),
                },
                scope: covered.trim().to_owned(),
                simulate: None,
            }],
        });
    };
    // Started: the dialog closes, the new task is the one selected, and a
    // notice says so. Not started: the dialog says why and keeps the fields.
    Effect::new(move |_| match run.value().get() {
        Some(Ok(summary)) if summary.is_complete() => {
            open.set(false);
            selected.set(summary.created.iter().copied().collect());
            target.set(String::new());
            let sentence = summary.sentence();
            started.set(Some(sentence.clone()));
            set_timeout(
                move || {
                    if started.get_untracked().as_deref() == Some(sentence.as_str()) {
                        started.set(None);
                    }
                },
                STARTED_NOTICE_FOR,
            );
        }
        Some(Ok(summary)) => problem.set(Some(summary.sentence())),
        Some(Err(error)) => problem.set(Some(error)),
        None => {}
    });
    let show = move |_| {
        problem.set(None);
        open.set(true);
    };
    let escape = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() == "Escape" {
            open.set(false);
        }
    });
    on_cleanup(move || escape.remove());

    let chips = move |testid: &'static str, values: Memo<Vec<String>>, into: RwSignal<String>| {
        view! {
            <div class="suggestions" role="list">
                <For
                    each=move || values.get()
                    key=|value: &String| value.clone()
                    children=move |value: String| view! {
                        <button type="button" class="chip chip-option" data-testid=testid role="listitem"
                            on:click={
                                let value = value.clone();
                                move |_| into.set(value.clone())
                            }>
                            {value.clone()}
                        </button>
                    }
                />
            </div>
        }
    };
    view! {
        <button class="button" data-testid="new-task" on:click=show
            title="Start a scan or an audit of one target now">
            "New task"
        </button>
        {move || started.get().map(|sentence| view! {
            <span class="toast notice notice-ok" role="status" data-testid="new-task-started">{sentence}</span>
        })}
        <Show when=move || open.get()>
            <div class="dialog-backdrop">
                <form class="dialog" role="dialog" aria-modal="true" aria-labelledby="new-task-title"
                    data-testid="new-task-dialog" on:submit=submit>
                    <h2 id="new-task-title">{move || format!("New {}", kind.get().title().to_lowercase())}</h2>
                    <label class="field">
                        <span>"Task"</span>
                        <select data-testid="new-task-kind" on:change=move |event| {
                            kind.set(match event_target_value(&event).as_str() {
                                "audit" => TaskKind::Audit,
                                _ => TaskKind::Scan,
                            })
                        }>
                            {[TaskKind::Scan, TaskKind::Audit].into_iter().map(|k| view! {
                                <option value=k.as_str() selected=move || kind.get() == k>{k.title()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>"Target type"</span>
                        <select data-testid="new-task-target-type" on:change=move |event| {
                            target_type.set(match event_target_value(&event).as_str() {
                                "segment" => TargetType::Segment,
                                "cloud_resource" => TargetType::CloudResource,
                                _ => TargetType::Device,
                            })
                        }>
                            {[TargetType::Device, TargetType::Segment, TargetType::CloudResource].into_iter().map(|t| view! {
                                <option value=t.as_str() selected=move || target_type.get() == t>{t.title()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>"Device / Resource"</span>
                        <input type="text" data-testid="new-task-target" autocomplete="off"
                            placeholder="WS-0042, HQ-LAN, arn:…"
                            prop:value=target on:input=move |event| target.set(event_target_value(&event)) />
                    </label>
                    {chips("new-task-target-suggestion", target_suggestions, target)}
                    <label class="field">
                        <span>"Scope"</span>
                        <input type="text" data-testid="new-task-scope" autocomplete="off"
                            placeholder="Segment HQ-LAN"
                            prop:value=scope on:input=move |event| scope.set(event_target_value(&event)) />
                    </label>
                    {chips("new-task-scope-suggestion", scope_suggestions, scope)}
                    {move || problem.get().map(|text| view! {
                        <p class="notice notice-error" role="alert" data-testid="new-task-error">{text}</p>
                    })}
                    <div class="dialog-buttons">
                        <button type="button" class="button" data-testid="new-task-close" on:click=move |_| open.set(false)>"Close"</button>
                        <button type="submit" class="button button-primary" data-testid="new-task-submit" disabled=move || run.pending().get()>
                            {move || if run.pending().get() { "Starting…".to_owned() } else { format!("Start {}", kind.get().title().to_lowercase()) }}
                        </button>
                    </div>
                </form>
            </div>
        </Show>
    }
}
