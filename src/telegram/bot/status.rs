//! `/status` (kkachi admins only): feeds with their last success or failure, the outbox,
//! alerts sent today, and subscribers per rule.
//!
//! Must not: write anything (it reads the store).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use super::render;
use super::{Settings, plural, trim_chars};
use crate::rules::RuleSet;
use crate::store::{Store, StoreError};

/// `/status`: feeds, queue, alerts sent today and subscribers per rule.
pub(super) fn status(
    store: &Store,
    rules: &RuleSet,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let tz = settings.timezone;
    let fmt = |t: DateTime<Utc>| t.with_timezone(&tz).format("%m-%d %H:%M %Z").to_string();
    let mut s = format!(
        "<b>kkachi status</b>\n\n<b>Feeds</b> ({})",
        settings.feeds.len()
    );
    for name in &settings.feeds {
        let st = store.feed_state(name)?;
        let ok = st
            .last_success
            .map(|t| format!("last success {}", fmt(t)))
            .unwrap_or_else(|| "no success yet".into());
        s.push_str(&format!("\n• <b>{}</b>: {ok}", render::escape(name)));
        if st.failures > 0 {
            let err = st.last_error.as_deref().unwrap_or("unknown error");
            s.push_str(&format!(
                "\n  ⚠️ failing ({} in a row): {}",
                st.failures,
                render::escape(&trim_chars(err, 200))
            ));
        }
    }
    let depth = crate::telegram::send::depth_by_chat(store)?;
    s.push_str(&format!(
        "\n\n<b>Outbox</b>: {} queued for {} chat{}",
        store.outbox_len(),
        depth.len(),
        plural(depth.len())
    ));
    let midnight = now
        .with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .map_or(now - chrono::Duration::hours(24), |t| t.with_timezone(&Utc));
    s.push_str(&format!(
        "\n<b>Sent today</b>: {}",
        store.sent_since(midnight)?
    ));
    // rule → (active, paused or ended)
    let mut per_rule: BTreeMap<String, (usize, usize)> = rules
        .rules()
        .iter()
        .map(|r| (r.name.clone(), (0, 0)))
        .collect();
    for sub in store.subscriptions()?.values() {
        for name in &sub.rules {
            let e = per_rule.entry(name.clone()).or_default();
            if sub.active() {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }
    s.push_str("\n\n<b>Subscribers per rule</b>");
    for (name, (active, inactive)) in &per_rule {
        let info = rules.rules().iter().find(|r| &r.name == name);
        s.push_str(&format!("\n• <b>{}</b>: {active}", render::escape(name)));
        if *inactive > 0 {
            s.push_str(&format!(" (+{inactive} paused or ended)"));
        }
        match info {
            Some(r) if !r.chats.is_empty() => s.push_str(&format!(
                " + {} static chat{}",
                r.chats.len(),
                plural(r.chats.len())
            )),
            Some(_) => {}
            None => s.push_str(" <i>(gone from rules.toml)</i>"),
        }
    }
    Ok(s)
}
