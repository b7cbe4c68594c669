//! The repairs and checks between decoding and feed-rs. Pure.
//!
//! `<rss>` without a `version` (or with one feed-rs does not know, e.g. `2.00`) is read as 2.0.
//! A `&` that starts no reference (`AT&T`) is escaped. A document whose root is `<html>` is not
//! a feed, whatever feed-rs would make of it. The text must then be well-formed XML (checked
//! with quick-xml, because feed-rs returns `Ok` with items missing after some errors), nested
//! at most 1024 elements deep (feed-rs's namespace reader counts levels in a `u16`); errors
//! give the line and column in the feed as fetched (edits above are undone for the position).
//!
//! Every edit is recorded as an [`Edit`], so that an error position found in the repaired text
//! is mapped back to the feed as fetched ([`undo_edits`]).
//!
//! Once the text is known to be well-formed, [`rewrite_elements`] turns what feed-rs would
//! drop or refuse (Atom 0.3, odd Atom `type=`s, RSS under a foreign namespace or without
//! `<channel>`, `dc:`/`dcterms:`/`media:`/`itunes:` stand-ins for missing item elements, RSS 1.0
//! items without a link, escaped markup in RSS titles) into what it reads. feed-rs stays the
//! parser; the text comes back borrowed when the [`Survey`] that the well-formedness pass
//! ([`check_xml`]) takes on its way finds nothing to rewrite (no second pass over the text).

use std::borrow::Cow;

use super::FeedError;

/// Where the root element's start tag is: byte offsets of `<` and of the end of its name.
pub(super) fn root_element(text: &str) -> Option<(usize, usize)> {
    let mut i = 0;
    let b = text.as_bytes();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let rest = &text[i..];
        let skip = if rest.starts_with("<?") {
            rest.find("?>").map(|e| e + 2)?
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|e| e + 3)?
        } else if rest.starts_with("<!") {
            // DOCTYPE, possibly with an internal subset in brackets. `[` is looked for only
            // before the first `>`: searching the whole rest at every `<!` was quadratic.
            let gt = rest.find('>')?;
            let close = match rest[..gt].find('[') {
                Some(open) => rest[open..].find(']').map(|c| open + c)?,
                None => 0,
            };
            rest[close..].find('>').map(|e| close + e + 1)?
        } else if let Some(tag) = rest.strip_prefix('<') {
            let name_len = tag
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(tag.len());
            return (name_len > 0).then_some((i, i + 1 + name_len));
        } else {
            return None;
        };
        i += skip;
    }
}

/// `&` that starts no entity or character reference (`AT&T`, `?a=1&b=2`) becomes `&amp;`:
/// feeds are full of them and no reader rejects a feed for it. CDATA sections and comments are
/// left alone.
pub(super) fn escape_bare_ampersands(text: &str) -> (Cow<'_, str>, Vec<Edit>) {
    let is_reference = |rest: &str| {
        let body = rest
            .strip_prefix('#')
            .map_or(rest, |r| r.strip_prefix(['x', 'X']).unwrap_or(r));
        let n = body
            .bytes()
            .take(32)
            .take_while(u8::is_ascii_alphanumeric)
            .count();
        n > 0 && body.as_bytes().get(n) == Some(&b';')
    };
    let needs_fix = text
        .match_indices('&')
        .any(|(i, _)| !is_reference(&text[i + 1..]));
    if !needs_fix || is_json(text) {
        return (text.into(), Vec::new());
    }
    let mut edits = Vec::new();
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let skip_to = if rest.starts_with("<![CDATA[") {
            rest.find("]]>").map_or(rest.len(), |e| e + 3)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map_or(rest.len(), |e| e + 3)
        } else if rest.starts_with('&') && !is_reference(&rest[1..]) {
            edits.push(Edit {
                at: out.len(),
                old_len: 1,
                new_len: "&amp;".len(),
            });
            out.push_str("&amp;");
            rest = &rest[1..];
            continue;
        } else {
            1
        };
        out.push_str(&rest[..skip_to]);
        rest = &rest[skip_to..];
    }
    out.push_str(rest);
    (out.into(), edits)
}

/// A JSON Feed: feed-rs reads those too.
pub(super) fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// RSS versions feed-rs dispatches on.
const KNOWN_RSS_VERSIONS: [&str; 3] = ["2.0", "0.91", "0.92"];

/// One replacement made to the decoded text: at byte `at`, `old_len` bytes became `new_len`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Edit {
    at: usize,
    old_len: usize,
    new_len: usize,
}

/// Maps an offset in edited text back to the text before `edits` (sorted by `at`, made in one
/// pass), so error positions are the feed's own.
pub(super) fn undo_edits(offset: usize, edits: &[Edit]) -> usize {
    let mut original = offset;
    for e in edits.iter().take_while(|e| e.at < offset) {
        if offset >= e.at + e.new_len {
            original = original + e.old_len - e.new_len;
        } else {
            return original - (offset - e.at);
        }
    }
    original
}

/// Rejects HTML; gives `<rss>` a version feed-rs knows.
pub(super) fn repair_root(text: &str) -> Result<(Cow<'_, str>, Option<Edit>), FeedError> {
    let Some((lt, name_end)) = root_element(text) else {
        return if is_json(text) {
            Ok((text.into(), None)) // JSON Feed: feed-rs reads it
        } else {
            Err(FeedError::NotAFeed { root: None })
        };
    };
    let name = &text[lt + 1..name_end];
    let local = name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase();
    if local == "html" || local == "body" {
        return Err(FeedError::NotAFeed {
            root: Some(name.to_string()),
        });
    }
    if name != "rss" {
        return Ok((text.into(), None));
    }
    let tag_end = start_tag_end(text, name_end);
    let (at, old_len, new) = match find_attr(&text[name_end..tag_end], "version") {
        Some((v_start, v_end))
            if KNOWN_RSS_VERSIONS.contains(&text[name_end + v_start..name_end + v_end].trim()) =>
        {
            return Ok((text.into(), None));
        }
        Some((v_start, v_end)) => (name_end + v_start, v_end - v_start, "2.0"),
        None => (name_end, 0, " version=\"2.0\""),
    };
    let repaired = format!("{}{new}{}", &text[..at], &text[at + old_len..]);
    Ok((
        repaired.into(),
        Some(Edit {
            at,
            old_len,
            new_len: new.len(),
        }),
    ))
}

/// Offset of the `>` (or end of text) closing the start tag whose attributes begin at `from`.
fn start_tag_end(text: &str, from: usize) -> usize {
    let mut quote = None;
    for (i, c) in text[from..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return from + i,
            _ => {}
        }
    }
    text.len()
}

/// Byte range of the value of attribute `name` in the attribute text of a start tag.
pub(super) fn find_attr(attrs: &str, name: &str) -> Option<(usize, usize)> {
    let mut rest = 0;
    while let Some(at) = attrs[rest..].find(name).map(|i| rest + i) {
        rest = at + name.len();
        let before_ok = attrs[..at].ends_with(char::is_whitespace);
        let after = &attrs[rest..];
        let trimmed = after.trim_start();
        if before_ok && let Some(eq) = trimmed.strip_prefix('=') {
            let value = eq.trim_start();
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let v_start = attrs.len() - value.len() + 1;
            let v_len = attrs[v_start..].find(quote)?;
            return Some((v_start, v_start + v_len));
        }
    }
    None
}

/// Feeds nest a handful of elements (XHTML content a few dozen more). Far deeper nesting is
/// refused before feed-rs sees it: its namespace reader counts levels in a `u16`.
const MAX_XML_DEPTH: usize = 1024;

/// Reads `text` with quick-xml to find where it stops being XML (or nests deeper than
/// [`MAX_XML_DEPTH`]): (byte offset, reason).
pub(super) fn locate_xml_error(text: &str) -> Option<(usize, String)> {
    check_xml(text).0
}

/// The well-formedness and depth check, and on the way the [`Survey`] that tells
/// [`rewrite_elements`] whether it has work: one quick-xml pass for both (a second pass over
/// the text, even a byte scan, costs a measurable share of a feed's parse).
pub(super) fn check_xml(text: &str) -> (Option<(usize, String)>, Survey) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    let mut survey = Survey::default();
    // The open `<title>` whose text is being read (until its first child or end).
    let mut in_title = false;
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event();
        let title_text = in_title;
        in_title = false;
        match event {
            Ok(Event::Eof) => {
                let error = open
                    .last()
                    .map(|tag| (text.len(), format!("the document ends inside <{tag}>")));
                return (error, survey);
            }
            Ok(Event::Start(_)) if open.len() == MAX_XML_DEPTH => {
                let offset = usize::try_from(before).unwrap_or(text.len());
                let error = (
                    offset,
                    format!("elements nested more than {MAX_XML_DEPTH} deep"),
                );
                return (Some(error), survey);
            }
            Ok(Event::Start(e)) => {
                survey.element(&e, open.is_empty(), true);
                in_title = e.name().as_ref() == b"title";
                open.push(String::from_utf8_lossy(e.name().as_ref()).into_owned())
            }
            Ok(Event::Empty(e)) => survey.element(&e, open.is_empty(), false),
            Ok(Event::End(e)) => {
                survey.end(e.name().as_ref());
                open.pop();
            }
            Ok(Event::Text(_)) => in_title = title_text,
            Ok(Event::GeneralRef(r)) => {
                in_title = title_text;
                survey.escaped_title |= title_text && &*r == b"lt";
            }
            Ok(_) => {}
            Err(e) => {
                let offset = usize::try_from(reader.error_position()).unwrap_or(text.len());
                return (Some((offset, lower_first(&e.to_string()))), survey);
            }
        }
    }
}

/// What the well-formedness pass saw that decides whether [`rewrite_elements`] has work
/// ([`Survey::needs_rewrite`]). Elements are named as feeds write them (`dc:`, `media:`...).
#[derive(Debug, Default)]
pub(super) struct Survey {
    /// An element or attribute that always wants the rewrite ([`REWRITE_TRIGGERS`], Atom 0.3's
    /// or UserLand's namespace, a `mode=`).
    trigger: bool,
    rss_root: bool,
    channel: bool,
    title_stand_in: bool,
    description_stand_in: bool,
    /// The open `<item>`: whether it has a title and a description so far.
    item: Option<(bool, bool)>,
    item_lacks_title: bool,
    item_lacks_description: bool,
    /// An Atom text element with a `type=` feed-rs refuses or misreads.
    odd_type: bool,
    /// A `<title>` whose text (not CDATA) holds an escaped `<`.
    escaped_title: bool,
}

impl Survey {
    pub(super) fn needs_rewrite(&self) -> bool {
        self.trigger
            || self.odd_type
            || self.escaped_title
            || (self.rss_root && !self.channel)
            || (self.title_stand_in && self.item_lacks_title)
            || (self.description_stand_in && self.item_lacks_description)
    }

    fn element(&mut self, e: &quick_xml::events::BytesStart<'_>, root: bool, start: bool) {
        let name = e.name();
        let name = name.as_ref();
        if root {
            self.rss_root = name == b"rss";
        }
        let word = std::str::from_utf8(name).unwrap_or_default();
        match word {
            "channel" => self.channel = true,
            "item" if start => self.item = Some((false, false)),
            "title" => self.seen_in_item(true, false),
            "description" => self.seen_in_item(false, true),
            w if REWRITE_TRIGGERS.contains(&w) || w.starts_with("dcterms:") => self.trigger = true,
            w if TITLE_STAND_INS.contains(&w) => self.title_stand_in = true,
            w if DESCRIPTION_STAND_INS.contains(&w) => self.description_stand_in = true,
            _ => {}
        }
        if e.attributes_raw().is_empty() {
            return;
        }
        let atom_text = matches!(
            word,
            "title" | "subtitle" | "summary" | "content" | "rights"
        );
        for a in e.attributes().with_checks(false).flatten() {
            let key = a.key.as_ref();
            let value = a.value.as_ref();
            if key == b"mode" {
                self.trigger = true;
            } else if key.starts_with(b"xmlns") {
                let v = std::str::from_utf8(value).unwrap_or_default();
                self.trigger |= v == ATOM03_NS || v.contains("backend.userland.com");
            } else if atom_text && key == b"type" {
                self.odd_type |= !matches!(value, b"text" | b"html" | b"xhtml");
            }
        }
    }

    fn seen_in_item(&mut self, title: bool, description: bool) {
        if let Some((t, d)) = &mut self.item {
            *t |= title;
            *d |= description;
        }
    }

    fn end(&mut self, name: &[u8]) {
        if name == b"item"
            && let Some((title, description)) = self.item.take()
        {
            self.item_lacks_title |= !title;
            self.item_lacks_description |= !description;
        }
    }
}

pub(super) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The link given to an RSS 1.0 item that has none (feed-rs drops such items); the story has
/// no URL then. Never a URL a feed could carry.
pub(super) const NO_LINK: &str = "kkachi:no-link";

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const ATOM03_NS: &str = "http://purl.org/atom/ns#";
const DC_NS: &str = "http://purl.org/dc/elements/1.1/";

/// Elements whose presence means [`rewrite_elements`] has work to do (so do any `dcterms:`
/// element, a `mode=` attribute and Atom 0.3's or UserLand's namespace: [`Survey`]).
const REWRITE_TRIGGERS: [&str; 8] = [
    "atom:published",
    "atom:updated",
    "dc:subject",
    "dc:author",
    "media:category",
    "itunes:author",
    "itunes:category",
    "rdf:RDF",
];

/// Stand-ins that matter only for an item lacking the standard element (many feeds carry
/// `media:title` next to `title`: they must not cost a read).
const TITLE_STAND_INS: [&str; 3] = ["dc:title", "media:title", "itunes:title"];
const DESCRIPTION_STAND_INS: [&str; 3] = ["dc:description", "itunes:summary", "media:description"];

/// Whether [`rewrite_elements`] has work in `text` (the survey of [`check_xml`]'s pass).
#[cfg(test)]
pub(super) fn needs_rewrite(text: &str) -> bool {
    check_xml(text).1.needs_rewrite()
}

/// Rewrites what feed-rs would drop or refuse into what it reads, keeping feed-rs the parser:
/// - Atom 0.3: its namespace becomes Atom 1.0's, `issued` → `published`, `modified` →
///   `updated`, `mode="escaped"` → `type="html"`, `mode="base64"` content decoded;
/// - Atom text elements with an odd `type=` (`""`, `TEXT`, `text/plain`,
///   `application/xhtml+xml`, anything unknown): `text`, `html` or `xhtml`;
/// - `<rss>` under a default namespace (UserLand's) loses it; `<rss>` without `<channel>`
///   gets one around its children;
/// - RSS items: a missing title, description or date is taken from `dc:title` /
///   `media:title` / `itunes:title`, `dc:description` / `itunes:summary` /
///   `media:description`, `dcterms:issued` / `atom:published` / `dcterms:created` /
///   `dcterms:modified` / `atom:updated`; `dc:subject`, `media:category` and
///   `itunes:category` become categories, `dc:author` and `itunes:author` creators;
///   RSS 1.0 items without a link get `rdf:about` (or [`NO_LINK`]) as one;
/// - an RSS title's escaped markup (`&lt;script&gt;`) is escaped once more, so that it stays
///   text and is never read as HTML (CDATA titles are left as they are).
///
/// Prefixes are matched as feeds write them (`dc:`, `dcterms:`, `media:`, `itunes:`,
/// `atom:`). Runs after the well-formedness check, so error positions never pass through it.
/// The text comes back borrowed when the well-formedness pass's `survey` found nothing to do.
pub(super) fn rewrite_elements<'a>(text: &'a str, survey: &Survey) -> Cow<'a, str> {
    if is_json(text) || !survey.needs_rewrite() {
        return text.into();
    }
    let mut scan = Rewrite::default();
    scan.run(text);
    if scan.edits.is_empty() {
        return text.into();
    }
    // Stable, by start then end: an insertion comes before a removal at the same offset.
    scan.edits.sort_by_key(|e| (e.0, e.1));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for (start, end, new) in &scan.edits {
        if *start < at {
            continue; // overlapping edits cannot happen; never apply one twice
        }
        out.push_str(&text[at..*start]);
        out.push_str(new);
        at = *end;
    }
    out.push_str(&text[at..]);
    out.into()
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum Root {
    #[default]
    Other,
    Atom,
    Atom03,
    Rss,
    Rdf,
}

/// An open element: its qualified name, where its name is, where its content starts, and what
/// its end tag becomes.
#[derive(Debug)]
struct Open {
    name: String,
    name_at: (usize, usize),
    content_from: usize,
    rename: Option<&'static str>,
    base64: bool,
}

/// Finds an attribute of the current start tag: (value start, value end, value).
type AttrLookup<'a> = dyn Fn(&str) -> Option<(usize, usize, &'a str)> + 'a;

/// An element of an item that may stand in for a missing standard one: (rank, start name
/// range, end name range).
type Candidate = (u8, (usize, usize), (usize, usize));

#[derive(Debug, Default)]
struct Item {
    depth: usize,
    about: Option<String>,
    title: bool,
    link: bool,
    description: bool,
    date: bool,
    titles: Vec<Candidate>,
    descriptions: Vec<Candidate>,
    dates: Vec<Candidate>,
    /// Where the outermost `itunes:category` starts: categories are inserted before it.
    category_at: Option<usize>,
}

#[derive(Debug, Default)]
struct Rewrite {
    root: Root,
    stack: Vec<Open>,
    item: Option<Item>,
    /// (start, end, replacement) in the text as given.
    edits: Vec<(usize, usize, String)>,
}

impl Rewrite {
    fn run(&mut self, text: &str) {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(text);
        loop {
            let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = reader.read_event();
            let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            if after > text.len() {
                return;
            }
            match event {
                Ok(Event::Start(e)) if text[before..].starts_with('<') => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    self.start(text, name, before, after, false);
                }
                Ok(Event::Empty(e)) if text[before..].starts_with('<') => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    self.start(text, name, before, after, true);
                }
                Ok(Event::End(_)) if text[before..].starts_with("</") => self.end(text, before),
                Ok(Event::Eof) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }

    fn edit(&mut self, at: (usize, usize), new: impl Into<String>) {
        self.edits.push((at.0, at.1, new.into()));
    }

    fn start(&mut self, text: &str, name: String, before: usize, after: usize, empty: bool) {
        let name_at = (before + 1, before + 1 + name.len());
        let attrs_end = if empty { after - 2 } else { after - 1 };
        let attrs = &text[name_at.1..attrs_end.max(name_at.1)];
        let attr = |key: &str| {
            find_attr(attrs, key).map(|(s, e)| (name_at.1 + s, name_at.1 + e, &attrs[s..e]))
        };
        let depth = self.stack.len();
        let local = name.rsplit(':').next().unwrap_or(&name).to_string();
        let mut open = Open {
            name: name.clone(),
            name_at,
            content_from: after,
            rename: None,
            base64: false,
        };
        if depth == 0 {
            self.root = match local.as_str() {
                "feed" => match attr("xmlns") {
                    Some((s, e, ATOM03_NS)) => {
                        self.edit((s, e), ATOM_NS);
                        Root::Atom03
                    }
                    _ => Root::Atom,
                },
                "rss" => {
                    if let Some((s, e, _)) = attr("xmlns")
                        && let Some(whole) = whole_attr(text, s, e, "xmlns")
                    {
                        self.edit(whole, "");
                    }
                    if !empty && !text.contains("<channel") {
                        self.edit((after, after), "<channel>");
                        open.rename = Some("rss");
                    }
                    Root::Rss
                }
                "RDF" => Root::Rdf,
                _ => Root::Other,
            };
        } else if matches!(self.root, Root::Atom | Root::Atom03) {
            self.atom_element(text, &name, &local, &attr, &mut open);
        } else if matches!(self.root, Root::Rss | Root::Rdf) {
            self.rss_element(&name, &local, before, depth, &attr, empty);
        }
        if !empty {
            self.stack.push(open);
        }
    }

    fn atom_element<'a>(
        &mut self,
        text: &str,
        name: &str,
        local: &str,
        attr: &AttrLookup<'a>,
        open: &mut Open,
    ) {
        if name != local {
            return; // a prefixed element: an extension, not Atom's own
        }
        if self.root == Root::Atom03 {
            let new = match local {
                "issued" => Some("published"),
                "modified" => Some("updated"),
                "tagline" => Some("subtitle"),
                _ => None,
            };
            if let Some(new) = new {
                self.edit(open.name_at, new);
                open.rename = Some(new);
                return;
            }
        }
        let parent = self.stack.last().map(|o| o.name.as_str());
        let is_content = local == "content";
        if !matches!(
            local,
            "title" | "subtitle" | "summary" | "content" | "rights"
        ) || !matches!(parent, Some("feed" | "entry" | "source"))
            || (is_content && attr("src").is_some())
        {
            return;
        }
        let mut mode = None;
        if let Some((s, e, value)) = attr("mode") {
            mode = Some(value.trim().to_ascii_lowercase());
            if let Some(whole) = whole_attr(text, s, e, "mode") {
                self.edit(whole, "");
            }
        }
        let base64 = mode.as_deref() == Some("base64");
        open.base64 = base64;
        let escaped = mode.as_deref() == Some("escaped");
        match attr("type") {
            Some((s, e, value)) => {
                let canonical = text_type(value, is_content && !base64, escaped);
                if canonical != value {
                    self.edit((s, e), canonical);
                }
            }
            None if escaped || base64 => {
                self.edit((open.name_at.1, open.name_at.1), " type=\"html\"")
            }
            None => {}
        }
    }

    fn rss_element<'a>(
        &mut self,
        name: &str,
        local: &str,
        before: usize,
        depth: usize,
        attr: &AttrLookup<'a>,
        empty: bool,
    ) {
        if local == "item" && self.item.is_none() && !empty {
            self.item = Some(Item {
                depth,
                about: attr("rdf:about").map(|(_, _, v)| v.to_string()),
                ..Item::default()
            });
            return;
        }
        let Some(item) = self.item.as_mut() else {
            return;
        };
        if name == "itunes:category" {
            let at = *item.category_at.get_or_insert(before);
            if let Some((_, _, value)) = attr("text") {
                self.edits
                    .push((at, at, format!("<category>{value}</category>")));
            }
            return;
        }
        if depth != item.depth + 1 {
            return;
        }
        match name {
            "title" => item.title = true,
            "description" => item.description = true,
            "pubDate" | "dc:date" => item.date = true,
            _ => {}
        }
    }

    fn end(&mut self, text: &str, before: usize) {
        let Some(open) = self.stack.pop() else {
            return;
        };
        let end_name = (before + 2, before + 2 + open.name.len());
        if open.rename == Some("rss") && self.stack.is_empty() {
            self.edit((before, before), "</channel>");
            return;
        }
        if let Some(new) = open.rename {
            self.edit(end_name, new);
        }
        let content = (open.content_from, before);
        if open.base64 {
            let raw = &text[content.0..content.1];
            // Not text (an image, say): no content rather than base64 shown as text.
            let decoded = decode_base64(raw).map_or_else(String::new, |d| xml_escape(&d));
            self.edit(content, decoded);
        }
        let depth = self.stack.len();
        let Some(item) = self.item.as_mut() else {
            return;
        };
        if depth == item.depth {
            // The item itself ends.
            if let Some(item) = self.item.take() {
                self.finish_item(item, before);
            }
            return;
        }
        if depth != item.depth + 1 {
            return;
        }
        let raw = &text[content.0..content.1];
        let ranges = (open.name_at, end_name);
        match open.name.as_str() {
            "link" if !raw.trim().is_empty() => item.link = true,
            "title" if !raw.contains("<![CDATA[") && raw.contains("&lt;") => {
                let twice = raw.replace("&lt;", "&amp;lt;").replace("&gt;", "&amp;gt;");
                self.edit(content, twice);
            }
            "dc:title" => item.titles.push((0, ranges.0, ranges.1)),
            "media:title" => item.titles.push((1, ranges.0, ranges.1)),
            "itunes:title" => item.titles.push((2, ranges.0, ranges.1)),
            "dc:description" => item.descriptions.push((0, ranges.0, ranges.1)),
            "itunes:summary" => item.descriptions.push((1, ranges.0, ranges.1)),
            "media:description" => item.descriptions.push((2, ranges.0, ranges.1)),
            "dcterms:issued" => item.dates.push((0, ranges.0, ranges.1)),
            "atom:published" => item.dates.push((1, ranges.0, ranges.1)),
            "dcterms:created" => item.dates.push((2, ranges.0, ranges.1)),
            "dcterms:modified" => item.dates.push((3, ranges.0, ranges.1)),
            "atom:updated" => item.dates.push((4, ranges.0, ranges.1)),
            "dc:subject" | "media:category" => {
                self.edit(ranges.0, "category");
                self.edit(ranges.1, "category");
            }
            "dc:author" | "itunes:author" => {
                self.edit(ranges.0, format!("creator xmlns=\"{DC_NS}\""));
                self.edit(ranges.1, "creator");
            }
            _ => {}
        }
    }

    fn finish_item(&mut self, item: Item, end_at: usize) {
        let best = |mut c: Vec<Candidate>| {
            c.sort_by_key(|c| c.0);
            c.into_iter().next()
        };
        if !item.title
            && let Some((_, start, end)) = best(item.titles)
        {
            self.edit(start, "title");
            self.edit(end, "title");
        }
        // RSS 1.0: feed-rs reads dc:description itself.
        if !item.description
            && let Some((_, start, end)) = best(item.descriptions)
        {
            self.edit(start, "description");
            self.edit(end, "description");
        }
        if !item.date
            && let Some((_, start, end)) = best(item.dates)
        {
            self.edit(start, format!("date xmlns=\"{DC_NS}\""));
            self.edit(end, "date");
        }
        if self.root == Root::Rdf && !item.link {
            let link = item
                .about
                .filter(|a| a.starts_with("http://") || a.starts_with("https://"))
                .unwrap_or_else(|| NO_LINK.to_string());
            self.edit((end_at, end_at), format!("<link>{link}</link>"));
        }
    }
}

/// ` name = "value"` whose value is at `s..e`: from the space before the name to the closing
/// quote, for removing the attribute.
fn whole_attr(text: &str, s: usize, e: usize, name: &str) -> Option<(usize, usize)> {
    let head = text[..s.checked_sub(1)?].trim_end();
    let head = head.strip_suffix('=')?.trim_end().strip_suffix(name)?;
    Some((head.trim_end().len(), e + 1))
}

/// The `type=` feed-rs reads for an Atom text element: `text`, `html` or `xhtml`; content may
/// also keep an XML media type (read like xhtml). Anything else is text: feed-rs refuses
/// unknown types on text elements, and content of another media type that is empty.
fn text_type(value: &str, is_content: bool, escaped: bool) -> &str {
    let v = value.trim().to_ascii_lowercase();
    match v.as_str() {
        "html" | "text/html" => "html",
        "xhtml" | "application/xhtml+xml" => "xhtml",
        _ if escaped => "html",
        _ if is_content && (v.ends_with("+xml") || v.ends_with("/xml")) && v == value => value,
        _ => "text",
    }
}

/// Standard base64 (whitespace ignored) to UTF-8 text; `None` when it is not that.
fn decode_base64(raw: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(raw.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in raw.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    String::from_utf8(bytes).ok()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use crate::feed::parse_feed;
    use crate::feed::test_support::{FIXTURES, SEOUL, error};

    #[test]
    fn error_positions_are_the_feeds_own() {
        // One line, no version (an attribute is inserted) and bare `&` (escaped) before the error.
        let got = error(
            b"<rss><channel><item><title>A&B & C</title><link>x</lnk></item></channel></rss>",
        );
        assert_eq!(
            got,
            "not valid XML at line 1, column 50: ill-formed document: expected `</link>`, but `</lnk>` was found"
        );
        let got = error(b"<?xml version=\"1.0\" encoding=\"euc-kr\"?><rss version=\"2.0\"><channel></item></channel></rss>");
        assert!(
            got.starts_with("not valid XML at line 1, column 68: "),
            "{got}"
        );
    }

    #[test]
    fn truncated_feed_is_an_error() {
        let full = FIXTURES[4].1;
        let got = error(&full[..full.len() / 2]);
        assert_eq!(
            got,
            "not valid XML at line 96, column 22: the document ends inside <link>"
        );
        let got = error(b"<rss version=\"2.0\"><channel><item><title>a</title></item>");
        assert_eq!(
            got,
            "not valid XML at line 1, column 58: the document ends inside <channel>"
        );
    }

    #[test]
    fn bare_ampersands_and_undeclared_entities_are_tolerated() {
        let xml = "<rss version=\"2.0\"><channel><item><title>AT&T &nbsp;&amp; R&D &#39;x&#39;</title>\
                   <link>https://e.kr/a?x=1&utm_source=rss&y=2</link>\
                   <description><![CDATA[<p>a &amp; b & c</p>]]></description></item></channel></rss>";
        let stories =
            parse_feed("f", xml.as_bytes(), None, SEOUL).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stories[0].title, "AT&T & R&D 'x'");
        assert_eq!(stories[0].url, "https://e.kr/a?x=1&y=2");
        assert_eq!(stories[0].summary, "a & b & c");
    }
}
