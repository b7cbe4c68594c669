//! `/status` (kkachi admins only): feeds with their last success or failure, the outbox,
//! alerts sent today, and subscribers per rule.
//!
//! Must not: write anything (it reads the store).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};

use super::render;
use super::{Settings, trim_chars};
use crate::i18n::{Lang, n, s as text, t};
use crate::rules::RuleSet;
use crate::store::{Store, StoreError};

/// `/status`: feeds, queue, alerts sent today and subscribers per rule.
pub(super) fn status(
    lang: Lang,
    store: &Store,
    rules: &RuleSet,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let tz = settings.timezone;
    let fmt = |t: DateTime<Utc>| t.with_timezone(&tz).format("%m-%d %H:%M %Z").to_string();
    let mut s = format!(
        "{}\n\n{}",
        t(lang, "status-head", &[]),
        t(lang, "status-feeds", &[("n", n(settings.feeds.len()))])
    );
    for name in &settings.feeds {
        let st = store.feed_state(name)?;
        let ok = st
            .last_success
            .map(|at| t(lang, "status-last-success", &[("at", text(fmt(at)))]))
            .unwrap_or_else(|| t(lang, "status-no-success", &[]));
        s.push_str(&format!("\n• <b>{}</b>: {ok}", render::escape(name)));
        if st.failures > 0 {
            let err = match st.last_error.as_deref() {
                Some(e) => render::escape(&trim_chars(e, 200)),
                None => t(lang, "status-unknown-error", &[]),
            };
            let failures = usize::try_from(st.failures).unwrap_or(usize::MAX);
            s.push_str("\n  ");
            s.push_str(&t(
                lang,
                "status-failing",
                &[("n", n(failures)), ("error", text(err))],
            ));
        }
    }
    let depth = crate::telegram::send::depth_by_chat(store)?;
    s.push_str("\n\n");
    s.push_str(&t(
        lang,
        "status-outbox",
        &[("queued", n(store.outbox_len())), ("chats", n(depth.len()))],
    ));
    let midnight = now
        .with_timezone(&tz)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .map_or(now - chrono::Duration::hours(24), |t| t.with_timezone(&Utc));
    s.push('\n');
    s.push_str(&t(
        lang,
        "status-sent-today",
        &[("n", text(store.sent_since(midnight)?.to_string()))],
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
    s.push_str("\n\n");
    s.push_str(&t(lang, "status-subscribers", &[]));
    for (name, (active, inactive)) in &per_rule {
        let info = rules.rules().iter().find(|r| &r.name == name);
        s.push_str(&format!("\n• <b>{}</b>: {active}", render::escape(name)));
        if *inactive > 0 {
            s.push(' ');
            s.push_str(&t(lang, "status-inactive", &[("n", n(*inactive))]));
        }
        match info {
            Some(r) if !r.chats.is_empty() => {
                s.push(' ');
                s.push_str(&t(lang, "status-static", &[("n", n(r.chats.len()))]));
            }
            Some(_) => {}
            None => s.push_str(&format!(" <i>{}</i>", t(lang, "status-gone", &[]))),
        }
    }
    Ok(s)
}
