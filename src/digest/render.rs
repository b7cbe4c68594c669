//! Rendering a digest (placeholder for this branch; the owner replaces it with the full
//! renderer at merge): Telegram HTML messages, console text and the console JSON line. Pure.

use super::Digest;
use crate::telegram::render::escape;

fn header(d: &Digest) -> String {
    let due = d.due.with_timezone(&d.tz).format("%Y-%m-%d %H:%M %Z");
    format!("🗞 {due} digest · {} stories", d.items.len())
}

/// Telegram HTML messages (one here: a header and one escaped line per item); none for a
/// digest without items.
pub fn html(d: &Digest) -> Vec<String> {
    if d.items.is_empty() {
        return Vec::new();
    }
    let mut s = format!("<b>{}</b>\n", escape(&header(d)));
    for (n, item) in d.items.iter().enumerate() {
        let a = &item.alert;
        s.push_str(&format!(
            "{}. <a href=\"{}\">{}</a> — {}\n",
            n + 1,
            escape(&a.url),
            escape(&a.title),
            escape(&a.feed)
        ));
    }
    vec![s]
}

/// Console text: the header and one line per item.
pub fn text(d: &Digest) -> String {
    let mut s = format!("{}\n", header(d));
    for (n, item) in d.items.iter().enumerate() {
        s.push_str(&format!(
            "{}. {} — {} <{}>\n",
            n + 1,
            item.alert.title,
            item.alert.feed,
            item.alert.url
        ));
    }
    s
}

/// The console JSON line: `{"kind":"digest","digest_kind","due","stories","items":[alert..]}`.
pub fn json(d: &Digest) -> serde_json::Value {
    serde_json::json!({
        "kind": "digest",
        "digest_kind": d.kind,
        "due": d.due,
        "stories": d.items.len(),
        "items": d.items.iter().map(|i| &i.alert).collect::<Vec<_>>(),
    })
}
