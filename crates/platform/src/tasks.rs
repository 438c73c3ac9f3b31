//! The service's tasks: every task a service spawns (room actors, interactions, forwarded
//! inputs, periodic jobs, consumers) lives in one set that the runtime owns, so shutdown
//! can wait for them — and abort what does not stop in time — before it closes the database
//! pool, and a crash (the runtime's future dropped) aborts them all, as a killed process
//! would.
//!
//! [`TaskSet`] is the owner, held by the runtime; [`Tasks`] is the cheap handle the service
//! clones into whatever spawns. A handle holds the set weakly (a task holding a handle does
//! not keep the set alive); once the set is drained at shutdown, [`Tasks::spawn`] refuses
//! new work.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct Shared {
    set: JoinSet<()>,
    /// Set once shutdown has drained the set: nothing more may start.
    closed: bool,
}

/// The owner of a service's tasks (held by the runtime).
pub struct TaskSet {
    shared: Arc<Mutex<Shared>>,
    token: CancellationToken,
}

impl std::fmt::Debug for TaskSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskSet").finish_non_exhaustive()
    }
}

/// A handle to spawn into the service's [`TaskSet`]; cheap to clone.
#[derive(Clone)]
pub struct Tasks {
    shared: Weak<Mutex<Shared>>,
    token: CancellationToken,
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tasks")
            .field("stopping", &self.token.is_cancelled())
            .finish()
    }
}

impl Default for TaskSet {
    fn default() -> Self {
        Self::new()
    }
}

impl TaskSet {
    /// An empty set with its own stop token.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Mutex::new(Shared::default())),
            token: CancellationToken::new(),
        }
    }

    /// A handle to spawn with.
    pub fn handle(&self) -> Tasks {
        Tasks {
            shared: Arc::downgrade(&self.shared),
            token: self.token.clone(),
        }
    }

    /// The token every task should stop on.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// How many tasks are running (finished ones are reaped first).
    pub fn len(&self) -> usize {
        let mut shared = lock(&self.shared);
        while shared.set.try_join_next().is_some() {}
        shared.set.len()
    }

    /// Whether no task is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops the tasks: cancels the token, waits up to `timeout` for every task (including
    /// tasks spawned while stopping), aborts what is left, and closes the set. Returns how
    /// many tasks had to be aborted.
    pub async fn stop(&self, timeout: Duration) -> usize {
        self.token.cancel();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut set = {
                let mut shared = lock(&self.shared);
                while shared.set.try_join_next().is_some() {}
                if shared.set.is_empty() {
                    shared.closed = true;
                    return 0;
                }
                std::mem::take(&mut shared.set)
            };
            let drained = tokio::time::timeout_at(deadline, async {
                while set.join_next().await.is_some() {}
            })
            .await;
            if drained.is_err() {
                let (aborted, mut rest) = {
                    let mut shared = lock(&self.shared);
                    shared.closed = true;
                    (
                        set.len() + shared.set.len(),
                        std::mem::take(&mut shared.set),
                    )
                };
                set.abort_all();
                rest.abort_all();
                // Wait for the aborts to land, so no task runs past this point.
                while set.join_next().await.is_some() {}
                while rest.join_next().await.is_some() {}
                tracing::warn!(aborted, "tasks did not stop in time; aborted them");
                return aborted;
            }
        }
    }
}

impl Tasks {
    /// Spawns `task` into the set. Returns `false` (and drops the task unstarted) once the
    /// service has stopped.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            tracing::debug!("the service is gone; a task was not started");
            return false;
        };
        let mut shared = lock(&shared);
        if shared.closed {
            tracing::debug!("the service has stopped; a task was not started");
            return false;
        }
        // Reap finished tasks so a long-running service does not keep their results.
        while shared.set.try_join_next().is_some() {}
        shared.set.spawn(task);
        true
    }

    /// Runs `job` now and then every `period` until the service stops. A job in progress
    /// finishes; ticks missed while a job ran are skipped, not bunched. Returns `false` when
    /// the service has stopped.
    pub fn every<F, Fut>(&self, period: Duration, job: F) -> bool
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.periodic(period, true, job)
    }

    /// Like [`Tasks::every`], but the first run is one `period` from now.
    pub fn every_after<F, Fut>(&self, period: Duration, job: F) -> bool
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.periodic(period, false, job)
    }

    fn periodic<F, Fut>(&self, period: Duration, at_once: bool, mut job: F) -> bool
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let token = self.token.clone();
        self.spawn(async move {
            let start = tokio::time::Instant::now() + if at_once { Duration::ZERO } else { period };
            let mut tick = tokio::time::interval_at(start, period);
            tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    biased;
                    () = token.cancelled() => return,
                    _ = tick.tick() => job().await,
                }
            }
        })
    }

    /// The token every task should stop on.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Whether the service is stopping.
    pub fn is_stopping(&self) -> bool {
        self.token.is_cancelled()
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn stop_waits_for_tasks_spawned_while_stopping() {
        let set = TaskSet::new();
        let tasks = set.handle();
        let done = Arc::new(AtomicUsize::new(0));
        let (inner_tasks, inner_done) = (tasks.clone(), done.clone());
        tasks.spawn(async move {
            inner_tasks.token().cancelled().await;
            let done = inner_done.clone();
            // Spawned during shutdown: still waited for.
            inner_tasks.spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                done.fetch_add(1, Ordering::SeqCst);
            });
            inner_done.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(set.stop(Duration::from_secs(5)).await, 0);
        assert_eq!(done.load(Ordering::SeqCst), 2);
        assert!(!tasks.spawn(async {}), "nothing starts after the stop");
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_token_is_aborted_at_the_deadline() {
        let set = TaskSet::new();
        let ran_after = Arc::new(AtomicUsize::new(0));
        let flag = ran_after.clone();
        set.handle().spawn(async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            flag.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(set.stop(Duration::from_millis(50)).await, 1);
        assert_eq!(ran_after.load(Ordering::SeqCst), 0);
        assert!(set.is_empty());
    }

    #[tokio::test]
    async fn dropping_the_set_aborts_its_tasks() {
        let set = TaskSet::new();
        let tasks = set.handle();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tasks.spawn(async move {
            let _keep = tx;
            std::future::pending::<()>().await;
        });
        drop(set);
        // The task was aborted, so its sender is dropped.
        assert!(rx.await.is_err());
        assert!(
            !tasks.spawn(async {}),
            "the handle outlives the set harmlessly"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn every_runs_at_once_then_each_period_until_stopped() {
        let set = TaskSet::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        set.handle().every(Duration::from_secs(10), move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(Duration::from_secs(25)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "at 0, 10 and 20 s");
        set.stop(Duration::from_secs(1)).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "nothing after the stop");
    }

    #[tokio::test(start_paused = true)]
    async fn every_after_waits_one_period_first() {
        let set = TaskSet::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        set.handle().every_after(Duration::from_secs(10), move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        set.stop(Duration::from_secs(1)).await;
    }
}
