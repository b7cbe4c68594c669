//! Personal rules at run time: the compiled set every poll matches beside the rules file's,
//! and the task that rebuilds it.
//!
//! The bot stores a chat's rule (`store::personal`) and calls [`Personal::changed`]; the
//! [`Compiler`] task then rebuilds the whole personal set from the store on a blocking thread
//! and publishes it, and the next poll matches with it. Changes that arrive while a build
//! runs are batched into the next one, so a burst of `/watch`es costs one or two builds, and
//! the bot answers without waiting for any (a build of 100,000 rules takes seconds:
//! BENCHMARKS.md). A reload publishes the new rules file's set as the base (the alias
//! settings personal rules are built with), which rebuilds too; it never edits them.
//!
//! Invariant: a poll matches one snapshot of the personal set, taken when it starts matching
//! (like the rules file's); a change takes effect from the next poll after its build.
//! Invariant: a stored rule that does not compile is logged with its chat and name at every
//! build, never dropped from the store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};

use crate::rules::RuleSet;
use crate::rules::personal::{self, Source};
use crate::store::{Store, StoreError};

/// How long the compiler waits after a change for more before it builds.
pub const BATCH: Duration = Duration::from_millis(100);

/// The live personal rule set (cheap to clone) and the way to ask for a rebuild.
#[derive(Clone)]
pub struct Personal {
    rules: watch::Receiver<Arc<RuleSet>>,
    wake: Arc<Notify>,
}

impl Personal {
    /// No personal rules, and nothing to rebuild them (tests, tools without the daemon).
    pub fn empty() -> Personal {
        let (_tx, rules) = watch::channel(Arc::new(RuleSet::empty()));
        Personal {
            rules,
            wake: Arc::new(Notify::new()),
        }
    }

    /// The set in force now.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.rules.borrow().clone()
    }

    /// A chat added, removed, paused or resumed a rule: rebuild soon.
    pub fn changed(&self) {
        self.wake.notify_one();
    }
}

/// Rebuilds the personal set when asked ([`Personal::changed`]) or when the base changes.
pub struct Compiler {
    store: Arc<Store>,
    base: watch::Receiver<Arc<RuleSet>>,
    out: watch::Sender<Arc<RuleSet>>,
    wake: Arc<Notify>,
}

/// Builds the first set from the store (the caller runs this off the reactor) and returns
/// the live handle, the compiler task to spawn, and the sender a reload publishes the new
/// rules file's set on.
pub fn start(
    store: Arc<Store>,
    base: Arc<RuleSet>,
) -> Result<(Personal, Compiler, watch::Sender<Arc<RuleSet>>), StoreError> {
    let first = compile_stored(&store, &base)?;
    let (out, rules) = watch::channel(Arc::new(first));
    let (base_tx, base) = watch::channel(base);
    let wake = Arc::new(Notify::new());
    Ok((
        Personal {
            rules,
            wake: wake.clone(),
        },
        Compiler {
            store,
            base,
            out,
            wake,
        },
        base_tx,
    ))
}

impl Compiler {
    /// Until `stop`: waits for a change, lets [`BATCH`] gather more, builds on a blocking
    /// thread and publishes. A failed build keeps the set in force (logged).
    pub async fn run(mut self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                () = self.wake.notified() => {}
                changed = self.base.changed() => if changed.is_err() {
                    // The daemon is gone; nothing will publish a base again.
                    return;
                },
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(BATCH) => {}
            }
            let (store, base) = (self.store.clone(), self.base.borrow_and_update().clone());
            match tokio::task::spawn_blocking(move || compile_stored(&store, &base)).await {
                Ok(Ok(set)) => {
                    self.out.send_replace(Arc::new(set));
                }
                Ok(Err(e)) => tracing::error!(
                    error = %e,
                    "cannot read the personal rules; the ones in force stay"
                ),
                Err(e) => tracing::error!(
                    error = %e,
                    "building the personal rules failed; the ones in force stay"
                ),
            }
        }
    }
}

/// Every chat's active (not paused) rule from the store, compiled with `base`'s alias
/// settings. Logs the build and every rule that does not compile.
pub fn compile_stored(store: &Store, base: &RuleSet) -> Result<RuleSet, StoreError> {
    let started = Instant::now();
    let all = store.all_personal_rules()?;
    let paused = all.iter().filter(|(_, r)| r.paused).count();
    let (set, errors) = personal::compile(
        base,
        all.iter()
            .filter(|(_, r)| !r.paused)
            .map(|(chat, r)| Source {
                chat: *chat,
                name: &r.name,
                query: &r.query,
            }),
    );
    for (name, e) in &errors {
        let (chat, rule) = personal::split(name).unwrap_or((0, name));
        tracing::error!(
            chat,
            rule,
            error = %e,
            "a personal rule does not compile and is not matched (the chat can /unwatch it)"
        );
    }
    crate::app::release_freed_memory("personal rules");
    tracing::info!(
        rules = set.len(),
        paused,
        broken = errors.len(),
        took_ms = started.elapsed().as_millis() as u64,
        "personal rules compiled"
    );
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::schedule::Delivery;
    use crate::store::personal::PersonalRule;

    fn rule(name: &str, query: &str) -> PersonalRule {
        PersonalRule {
            name: name.into(),
            query: query.into(),
            paused: false,
            created: chrono::Utc::now(),
        }
    }

    #[tokio::test]
    async fn a_change_is_compiled_and_published_and_paused_rules_are_left_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(dir.path()).expect("open"));
        store
            .add_personal_rule(7, &rule("deepseek", "DeepSeek"), 20, Delivery::Instant)
            .expect("add");
        let (live, compiler, _base) =
            start(store.clone(), Arc::new(RuleSet::empty())).expect("start");
        assert_eq!(live.rules().len(), 1);
        let stop = tokio_util::sync::CancellationToken::new();
        let task = tokio::spawn(compiler.run(stop.clone().cancelled_owned()));
        let mut published = live.rules.clone();
        store
            .add_personal_rule(8, &rule("chips", "반도체"), 20, Delivery::Instant)
            .expect("add");
        store
            .set_personal_paused(7, "deepseek", true)
            .expect("pause");
        live.changed();
        published.changed().await.expect("published");
        let names: Vec<String> = live
            .rules()
            .rules()
            .iter()
            .map(|r| r.name.clone())
            .collect();
        assert_eq!(names, ["@8/chips"]);
        stop.cancel();
        task.await.expect("stopped");
    }
}
