//! The fields a query term can be restricted to (`title:`, `summary:`, `content:`, `feed:`).
//!
//! Its own module because both the lexer (which reads the prefixes) and the parser (which puts
//! them in the AST) need it, and the parser depends on the lexer. Must not know about matching.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Title,
    Summary,
    Content,
    Feed,
}

impl Field {
    pub fn from_name(name: &str) -> Option<Field> {
        match name.to_ascii_lowercase().as_str() {
            "title" => Some(Field::Title),
            "summary" => Some(Field::Summary),
            "content" => Some(Field::Content),
            "feed" => Some(Field::Feed),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Summary => "summary",
            Field::Content => "content",
            Field::Feed => "feed",
        }
    }
}
