//! Splits a query into tokens with their character columns.
//!
//! Owns the surface syntax: operators in capitals, quotes (straight and curly), `-`, `=`, `*` and
//! field prefixes. Must not decide precedence (that is the parser's).

use super::QueryError;
use super::field::Field;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Near(u32),
    /// `-` directly before a term, phrase or group.
    Minus,
    /// `title:` and friends, directly before a term, phrase or group.
    Field(Field),
    /// A bare word, its modifiers split off.
    Word {
        text: String,
        prefix: bool,
        suffix: bool,
        whole: bool,
    },
    /// A quoted phrase, whitespace collapsed.
    Phrase {
        text: String,
        whole: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    /// 0-based character index in the query.
    pub col: usize,
}

/// The default distance of a bare `NEAR`.
pub const DEFAULT_NEAR: u32 = 5;

fn closers(open: char) -> Option<&'static [char]> {
    match open {
        '"' | '“' | '”' => Some(&['"', '“', '”']),
        '‘' | '’' => Some(&['‘', '’']),
        _ => None,
    }
}

/// Characters that end a bare word. `’` is not among them: inside a word it is an apostrophe.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '“' | '”' | '‘')
}

fn err(col: usize, message: impl Into<String>) -> QueryError {
    QueryError {
        column: col + 1,
        message: message.into(),
    }
}

pub fn lex(query: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let col = i;
        match c {
            '(' => {
                out.push(Token {
                    tok: Tok::LParen,
                    col,
                });
                i += 1;
            }
            ')' => {
                out.push(Token {
                    tok: Tok::RParen,
                    col,
                });
                i += 1;
            }
            '-' => {
                if chars
                    .get(i + 1)
                    .is_none_or(|n| n.is_whitespace() || *n == ')')
                {
                    return Err(err(col + 1, "expected a term after -"));
                }
                out.push(Token {
                    tok: Tok::Minus,
                    col,
                });
                i += 1;
            }
            _ if closers(c).is_some() => {
                let (tok, next) = phrase(&chars, i, false)?;
                out.push(Token { tok, col });
                i = next;
            }
            '=' if chars.get(i + 1).is_some_and(|n| closers(*n).is_some()) => {
                let (tok, next) = phrase(&chars, i + 1, true)?;
                out.push(Token { tok, col });
                i = next;
            }
            _ => {
                // A field prefix is letters and `:`; looked for before the whole word is read,
                // so `title:title:…` stays linear.
                let letters = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                if letters > 0 && chars.get(i + letters) == Some(&':') {
                    let prefix: String = chars[i..i + letters].iter().collect();
                    let prefix = prefix.as_str();
                    let Some(field) = Field::from_name(prefix) else {
                        return Err(err(
                            col,
                            format!(
                                "unknown field {prefix}: (fields are title:, summary:, content:, feed:)"
                            ),
                        ));
                    };
                    out.push(Token {
                        tok: Tok::Field(field),
                        col,
                    });
                    i += letters + 1;
                    if chars.get(i).is_none_or(|c| c.is_whitespace() || *c == ')') {
                        return Err(err(
                            i,
                            format!("expected a term, a phrase or ( after {prefix}:"),
                        ));
                    }
                    continue;
                }
                let end = (i..chars.len())
                    .find(|&j| ends_word(chars[j]))
                    .unwrap_or(chars.len());
                let word: String = chars[i..end].iter().collect();
                out.push(Token {
                    tok: word_token(&word, col)?,
                    col,
                });
                i = end;
            }
        }
    }
    Ok(out)
}

/// Reads a phrase whose opening quote is at `open`; returns the token and the index after it.
fn phrase(chars: &[char], open: usize, whole: bool) -> Result<(Tok, usize), QueryError> {
    let close_set = closers(chars[open]).unwrap_or(&['"']);
    let Some(close) = (open + 1..chars.len()).find(|&j| close_set.contains(&chars[j])) else {
        return Err(err(open, "unterminated phrase: missing closing quote"));
    };
    let inner: String = chars[open + 1..close].iter().collect();
    let text = inner.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err(err(open, "empty phrase"));
    }
    if whole && text.ends_with('*') {
        return Err(err(open, "= (whole word) cannot be combined with *"));
    }
    Ok((Tok::Phrase { text, whole }, close + 1))
}

fn word_token(word: &str, col: usize) -> Result<Tok, QueryError> {
    match word {
        "AND" => return Ok(Tok::And),
        "OR" => return Ok(Tok::Or),
        "NOT" => return Ok(Tok::Not),
        "NEAR" => return Ok(Tok::Near(DEFAULT_NEAR)),
        _ => {}
    }
    if let Some(n) = word.strip_prefix("NEAR/") {
        return match n.parse::<u32>() {
            Ok(n) if n <= 1000 => Ok(Tok::Near(n)),
            Ok(_) => Err(err(col + 5, "NEAR distance must be at most 1000")),
            Err(_) => Err(err(col + 5, "expected a number of words after NEAR/")),
        };
    }
    let mut text = word;
    let whole = text.starts_with('=');
    if whole {
        text = &text[1..];
    }
    let prefix = text.starts_with('*');
    if prefix {
        text = &text[1..];
    }
    let suffix = text.ends_with('*');
    if suffix {
        text = &text[..text.len() - 1];
    }
    let body_col = col + usize::from(whole) + usize::from(prefix);
    if text.is_empty() {
        return Err(err(body_col, "expected a term"));
    }
    if let Some(pos) = text.chars().position(|c| c == '*') {
        return Err(err(
            body_col + pos,
            "* is allowed only at the start or end of a term",
        ));
    }
    if whole && (prefix || suffix) {
        return Err(err(col, "= (whole word) cannot be combined with *"));
    }
    if suffix {
        let hangul = text
            .chars()
            .filter(|c| super::literal::is_hangul(*c))
            .count();
        if hangul < 2 && text.chars().count() < 3 {
            return Err(err(
                body_col + text.chars().count(),
                "a prefix search (term*) needs at least 2 Hangul syllables or 3 letters before *",
            ));
        }
    }
    Ok(Tok::Word {
        text: text.to_string(),
        prefix,
        suffix,
        whole,
    })
}
