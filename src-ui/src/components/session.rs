//! What the backend says of the shown Site, kept as it arrives: the
//! connection, the live list, the signals, the event stream's state. One
//! [`Session`] is provided by `App`; every component reads it from context.

use leptos::prelude::*;
use leptos::task::spawn_local;
use taskdeck_ipc::{
    commands, events, ActiveTasksSnapshot, ConnectionPhase, ConnectionStatus, LinkStatus, OpenTask,
    RunProgress, SignalsNow, TasksChanged,
};

use crate::bridge;
use crate::tasks::supersedes;

/// The backend's state of the shown Site, as signals.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// The connection and the Site shown, with who the app acts as.
    pub status: RwSignal<Option<ConnectionStatus>>,
    /// The live Active tasks list (newest first).
    pub snapshot: RwSignal<Option<ActiveTasksSnapshot>>,
    /// The Site's signals (queue long, running long, …).
    pub signals: RwSignal<Option<SignalsNow>>,
    /// The event stream's state.
    pub link: RwSignal<Option<LinkStatus>>,
    /// Why the window could not reach the backend.
    pub bridge_error: RwSignal<Option<String>>,
    /// Bumped when what the shown page reads should be read again.
    pub changes: RwSignal<u64>,
    /// Bumped when the Sites the window can show change.
    pub sites_changed: RwSignal<u64>,
    /// How far the last run of tasks has got.
    pub run_progress: RwSignal<Option<RunProgress>>,
    /// The shown Site's id, the connection's, and the user's email there:
    /// memos, so that a reading keyed on one runs only when it changes.
    site: Memo<Option<String>>,
    connection: Memo<Option<String>>,
    me: Memo<Option<String>>,
}

/// What the window does with the events that are not state.
pub struct Handlers {
    /// Another Site is shown: nothing of the last one may stay.
    pub switched: Callback<()>,
    /// A notification was clicked: show its task.
    pub open_task: Callback<OpenTask>,
    /// Tasks changed on a Site (any, not only the shown one).
    pub tasks_changed: Callback<TasksChanged>,
}

impl Session {
    /// Nothing known yet.
    pub fn new() -> Session {
        let status = RwSignal::new(None::<ConnectionStatus>);
        Session {
            status,
            snapshot: RwSignal::new(None),
            signals: RwSignal::new(None),
            link: RwSignal::new(None),
            bridge_error: RwSignal::new(None),
            changes: RwSignal::new(0),
            sites_changed: RwSignal::new(0),
            run_progress: RwSignal::new(None),
            site: Memo::new(move |_| {
                status.with(|s| {
                    s.as_ref()
                        .and_then(|s| s.site.as_ref().map(|site| site.id.clone()))
                })
            }),
            connection: Memo::new(move |_| {
                status.with(|s| s.as_ref().map(|s| s.connection_id.clone()))
            }),
            me: Memo::new(move |_| {
                status.with(|s| {
                    s.as_ref()
                        .and_then(|s| s.identity.as_ref().map(|i| i.email.clone()))
                })
            }),
        }
    }

    /// The session `App` provided.
    pub fn get() -> Session {
        expect_context::<Session>()
    }

    /// Asks every page shown to read again.
    pub fn read_again(self) {
        self.changes.update(|n| *n += 1);
    }

    /// The shown Site's id.
    pub fn site_id(self) -> Signal<Option<String>> {
        self.site.into()
    }

    /// The shown connection's id.
    pub fn connection(self) -> Signal<Option<String>> {
        self.connection.into()
    }

    /// Whether the user administers the shown Site (may cancel).
    pub fn is_admin(self) -> Signal<bool> {
        let status = self.status;
        Signal::derive(move || {
            status.with(|s| {
                s.as_ref()
                    .and_then(|s| s.site.as_ref())
                    .is_some_and(|site| site.role.is_admin())
            })
        })
    }

    /// The user's email on the shown Site.
    pub fn me(self) -> Memo<Option<String>> {
        self.me
    }

    /// The tasks the Site says run for too long.
    pub fn running_long(self) -> Signal<std::collections::BTreeSet<site_api::TaskId>> {
        let signals = self.signals;
        Signal::derive(move || {
            signals.with(|s| {
                s.as_ref()
                    .map(|s| {
                        s.signals
                            .iter()
                            .filter_map(|signal| match signal {
                                site_api::Signal::TaskRunningLong { task, .. } => Some(*task),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
        })
    }

    /// Keeps `incoming` unless the list holds a newer one.
    fn accept_snapshot(self, incoming: ActiveTasksSnapshot) {
        super::dom::mark_once("taskdeck:first-snapshot");
        self.snapshot.update(|current| {
            if supersedes(current.as_ref(), &incoming) {
                *current = Some(incoming);
            }
        });
    }

    /// Listens to the backend's events, then reads its state: nothing sent
    /// in between is lost. A failure to listen is kept in `bridge_error`.
    ///
    /// The listeners are asked for before this returns, so that they are
    /// on their way while the window mounts (`App` calls this first).
    pub fn listen(self, handlers: Handlers) {
        let listening = self.listeners(handlers);
        spawn_local(async move {
            let read = async {
                listening.await?;
                super::dom::mark_once("taskdeck:listening");
                self.read_state().await
            };
            if let Err(error) = read.await {
                self.bridge_error.set(Some(error.to_string()));
            }
        });
    }

    /// Asks for every listener at once (each is a round trip to the
    /// backend; one after another they held up the first rows); the
    /// future says when the backend has them all.
    fn listeners(
        self,
        handlers: Handlers,
    ) -> impl std::future::Future<Output = Result<(), bridge::BridgeError>> {
        use futures_util::future::try_join_all;
        use futures_util::{FutureExt, TryFutureExt};
        let Handlers {
            switched,
            open_task,
            tasks_changed,
        } = handlers;
        let on_connection = move |s: ConnectionStatus| {
            let key = |s: &ConnectionStatus| {
                (
                    s.connection_id.clone(),
                    s.site.as_ref().map(|site| site.id.clone()),
                )
            };
            let another = self
                .status
                .with_untracked(|old| old.as_ref().is_some_and(|old| key(old) != key(&s)));
            if another {
                self.snapshot.set(None);
                self.signals.set(None);
                self.link.set(None);
                switched.run(());
                self.read_again();
            }
            mark_connected(&s);
            self.status.set(Some(s));
            // A connection coming up may also show another Site.
            self.sites_changed.update(|n| *n += 1);
        };
        try_join_all([
            bridge::listen(events::CONNECTION, on_connection).boxed_local(),
            bridge::listen(events::ACTIVE_TASKS, move |s| self.accept_snapshot(s)).boxed_local(),
            bridge::listen(events::SIGNALS, move |s: SignalsNow| {
                self.signals.set(Some(s))
            })
            .boxed_local(),
            bridge::listen(events::LINK, move |l: LinkStatus| self.link.set(Some(l))).boxed_local(),
            bridge::listen(events::OPEN_TASK, move |open| open_task.run(open)).boxed_local(),
            bridge::listen(events::TASKS_CHANGED, move |changed| {
                tasks_changed.run(changed)
            })
            .boxed_local(),
            bridge::listen(events::RUN_PROGRESS, move |progress| {
                self.run_progress.set(Some(progress))
            })
            .boxed_local(),
            bridge::listen(events::SITES, move |_: ()| {
                self.sites_changed.update(|n| *n += 1)
            })
            .boxed_local(),
        ])
        .map_ok(|_| ())
    }

    /// Reads the backend's state, its four parts at once.
    async fn read_state(self) -> Result<(), bridge::BridgeError> {
        let (status, latest, signals, link) = futures_util::try_join!(
            bridge::invoke::<ConnectionStatus>(commands::CONNECTION_STATUS),
            bridge::invoke::<Option<ActiveTasksSnapshot>>(commands::ACTIVE_TASKS),
            bridge::invoke::<Option<SignalsNow>>(commands::SIGNALS),
            bridge::invoke::<Option<LinkStatus>>(commands::LINK_STATUS),
        )?;
        mark_connected(&status);
        self.status.set(Some(status));
        if let Some(latest) = latest {
            self.accept_snapshot(latest);
        }
        if signals.is_some() {
            self.signals.set(signals);
        }
        if link.is_some() {
            self.link.set(link);
        }
        Ok(())
    }
}

/// The page's `taskdeck:connected` mark, when a Site is first connected.
fn mark_connected(status: &ConnectionStatus) {
    if status.phase == ConnectionPhase::Connected {
        super::dom::mark_once("taskdeck:connected");
    }
}

/// What `read` answers, read again each time `key` changes; the last
/// answer stays shown while the next is read, and only the answer to the
/// latest key is kept (a [`LocalResource`]).
pub fn read_on<K, T, F, Fut>(
    key: impl Fn() -> K + 'static,
    read: F,
) -> LocalResource<Result<T, String>>
where
    K: 'static,
    T: 'static,
    F: Fn(K) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, bridge::BridgeError>> + 'static,
{
    LocalResource::new(move || {
        let future = read(key());
        async move { future.await.map_err(|e| e.to_string()) }
    })
}

/// An [`Action`] that sends requests of type `R` to the backend, keeping
/// the last answer (or its error, as a sentence) in its `value()`.
pub fn request_action<R>() -> Action<R, Result<R::Answer, String>>
where
    R: taskdeck_ipc::request::Request + Clone + 'static,
    R::Answer: 'static,
{
    Action::new_local(|request: &R| {
        let sent = bridge::send(request.clone());
        async move { sent.await.map_err(|e| e.to_string()) }
    })
}
