//! The query AST, its parser and its printer.
//!
//! Owns precedence (tightest first: parentheses and quotes; field prefixes and `*`; `NEAR/n`;
//! `NOT`; `AND`, explicit or implicit; `OR`) and the checks that need the query's shape:
//! negation-only queries (an error), AND/OR mixed without parentheses and short terms (warnings).
//! The printer writes a query that parses back to the same AST. Must not normalise text for
//! matching or know about aliases.

use std::fmt;

use super::QueryError;
use super::field::Field;
use super::lexer::{Tok, Token, lex};
use super::literal::is_latin;
use super::normalize::normalize;

/// A search term: a bare word or a quoted phrase, as written (not normalised).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    pub text: String,
    pub phrase: bool,
    /// `*term`: may start inside a word.
    pub prefix: bool,
    /// `term*`: any ending.
    pub suffix: bool,
    /// `=term`: the word alone or with particles.
    pub whole: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Term(Term),
    Field(Field, Box<Expr>),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Near(Box<Expr>, Box<Expr>, u32),
}

/// A problem worth a warning, at a 1-based character column of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub column: usize,
    pub message: String,
}

#[derive(Debug)]
pub struct Parsed {
    pub expr: Expr,
    pub warnings: Vec<Warning>,
}

/// How deep parentheses, `NOT` and `-` may nest. The parser and everything that walks the AST
/// (compiler, printer, evaluator) recurse, so hostile depth would overflow the stack; people
/// write a handful of levels.
pub const MAX_NESTING: usize = 100;

fn err(col: usize, message: impl Into<String>) -> QueryError {
    QueryError {
        column: col + 1,
        message: message.into(),
    }
}

/// Parses a query, checks that it needs at least one positive term, and collects warnings.
pub fn parse(query: &str) -> Result<Parsed, QueryError> {
    let tokens = lex(query)?;
    let end = query.chars().count();
    if tokens.is_empty() {
        return Err(err(0, "empty query"));
    }
    let mut p = Parser {
        tokens,
        pos: 0,
        end,
        depth: 0,
        warnings: Vec::new(),
    };
    let expr = p.or()?;
    if let Some(t) = p.tokens.get(p.pos) {
        return Err(match t.tok {
            Tok::RParen => err(t.col, "unmatched )"),
            _ => err(t.col, "unexpected token"),
        });
    }
    if !needs_positive(&expr) {
        return Err(err(
            0,
            "the query can match through negation alone; add a term the story must contain (e.g. 반도체 NOT 주가)",
        ));
    }
    Ok(Parsed {
        expr,
        warnings: p.warnings,
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Column just past the query, where "expected a term" points at the end.
    end: usize,
    /// Open parentheses, `NOT`s and `-`s around the current token.
    depth: usize,
    warnings: Vec<Warning>,
}

impl Parser {
    /// Runs `f` one nesting level deeper, refusing to go past [`MAX_NESTING`].
    fn nested(
        &mut self,
        col: usize,
        f: impl FnOnce(&mut Self) -> Result<Expr, QueryError>,
    ) -> Result<Expr, QueryError> {
        if self.depth >= MAX_NESTING {
            return Err(err(
                col,
                format!(
                    "the query is nested more than {MAX_NESTING} levels deep (parentheses, NOT, -)"
                ),
            ));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn col(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.col)
    }

    fn starts_operand(&self) -> bool {
        matches!(
            self.peek(),
            Some(
                Tok::LParen
                    | Tok::Not
                    | Tok::Minus
                    | Tok::Field(_)
                    | Tok::Word { .. }
                    | Tok::Phrase { .. }
            )
        )
    }

    fn expect_operand(&self, after: &str) -> Result<(), QueryError> {
        if self.starts_operand() {
            Ok(())
        } else {
            Err(err(self.col(), format!("expected a term after {after}")))
        }
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut mixed_at = None;
        let (first, multi) = self.and()?;
        let mut any_multi = multi;
        let mut items = vec![first];
        while self.peek() == Some(&Tok::Or) {
            let col = self.col();
            mixed_at.get_or_insert(col);
            self.pos += 1;
            self.expect_operand("OR")?;
            let (item, multi) = self.and()?;
            any_multi |= multi;
            items.push(item);
        }
        if items.len() == 1 {
            return Ok(items.pop().unwrap_or(Expr::Or(Vec::new())));
        }
        let expr = Expr::Or(items);
        if any_multi && let Some(col) = mixed_at {
            self.warnings.push(Warning {
                column: col + 1,
                message: format!("AND and OR mixed without parentheses; this reads as {expr}"),
            });
        }
        Ok(expr)
    }

    /// Returns the expression and whether it was an unparenthesised AND of two or more.
    fn and(&mut self) -> Result<(Expr, bool), QueryError> {
        let mut items = vec![self.not()?];
        loop {
            if self.peek() == Some(&Tok::And) {
                self.pos += 1;
                self.expect_operand("AND")?;
            } else if !self.starts_operand() {
                break;
            }
            items.push(self.not()?);
        }
        if items.len() == 1 {
            return Ok((items.pop().unwrap_or(Expr::And(Vec::new())), false));
        }
        Ok((Expr::And(items), true))
    }

    fn not(&mut self) -> Result<Expr, QueryError> {
        if self.peek() == Some(&Tok::Not) {
            let col = self.col();
            self.pos += 1;
            self.expect_operand("NOT")?;
            return self.nested(col, |p| Ok(Expr::Not(Box::new(p.not()?))));
        }
        self.near()
    }

    fn near(&mut self) -> Result<Expr, QueryError> {
        let lhs_col = self.col();
        let lhs = self.unary()?;
        let Some(&Tok::Near(n)) = self.peek() else {
            return Ok(lhs);
        };
        if !positional(&lhs) {
            return Err(err(
                lhs_col,
                "NEAR needs terms, phrases or OR groups of them on both sides",
            ));
        }
        self.pos += 1;
        self.expect_operand("NEAR")?;
        let rhs_col = self.col();
        let rhs = self.unary()?;
        if !positional(&rhs) {
            return Err(err(
                rhs_col,
                "NEAR needs terms, phrases or OR groups of them on both sides",
            ));
        }
        if let Some(Tok::Near(_)) = self.peek() {
            return Err(err(
                self.col(),
                "NEAR cannot be chained; join two NEARs with AND",
            ));
        }
        Ok(Expr::Near(Box::new(lhs), Box::new(rhs), n))
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        match self.peek().cloned() {
            Some(Tok::Minus) => {
                let col = self.col();
                self.pos += 1;
                self.nested(col, |p| Ok(Expr::Not(Box::new(p.unary()?))))
            }
            Some(Tok::Field(f)) => {
                self.pos += 1;
                if !matches!(
                    self.peek(),
                    Some(Tok::Word { .. } | Tok::Phrase { .. } | Tok::LParen)
                ) {
                    return Err(err(
                        self.col(),
                        format!("expected a term, a phrase or ( after {}:", f.name()),
                    ));
                }
                let inner_col = self.col();
                let inner = self.primary()?;
                if contains_field(&inner) {
                    return Err(err(
                        inner_col,
                        "a field prefix cannot contain another field prefix",
                    ));
                }
                if f == Field::Feed
                    && let Some(bad) = first_non_name(&inner)
                {
                    return Err(err(inner_col, format!("feed: takes feed names, not {bad}")));
                }
                Ok(Expr::Field(f, Box::new(inner)))
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let col = self.col();
        match self.peek().cloned() {
            Some(Tok::Word {
                text,
                prefix,
                suffix,
                whole,
            }) => {
                self.pos += 1;
                let term = Term {
                    text,
                    phrase: false,
                    prefix,
                    suffix,
                    whole,
                };
                self.check_term(&term, col)?;
                Ok(Expr::Term(term))
            }
            Some(Tok::Phrase { text, whole }) => {
                self.pos += 1;
                let term = Term {
                    text,
                    phrase: true,
                    prefix: false,
                    suffix: false,
                    whole,
                };
                self.check_term(&term, col)?;
                Ok(Expr::Term(term))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                self.expect_operand("(")?;
                let inner = self.nested(col, Self::or)?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(err(col, "unclosed ( : missing )"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::RParen) => Err(err(col, "expected a term before )")),
            Some(Tok::And) => Err(err(col, "expected a term before AND")),
            Some(Tok::Or) => Err(err(col, "expected a term before OR")),
            Some(Tok::Near(_)) => Err(err(col, "expected a term before NEAR")),
            Some(Tok::Not | Tok::Minus | Tok::Field(_)) => Err(err(col, "expected a term")),
            None => Err(err(col, "expected a term")),
        }
    }

    fn check_term(&mut self, term: &Term, col: usize) -> Result<(), QueryError> {
        let norm = normalize(&term.text);
        if norm.trim().is_empty() {
            return Err(err(col, "the term is empty once normalised"));
        }
        // `DeepSeek and OpenAI` searches for the word "and": operators are capitals only.
        let plain = !term.phrase && !term.prefix && !term.suffix && !term.whole;
        if plain {
            let upper = term.text.to_ascii_uppercase();
            if matches!(upper.as_str(), "AND" | "OR" | "NOT") && term.text != upper {
                self.warnings.push(Warning {
                    column: col + 1,
                    message: format!(
                        "lowercase {:?} is a search word here, not an operator: write {upper} to combine terms (or \"{}\" to search for the word)",
                        term.text, term.text
                    ),
                });
                return Ok(());
            }
        }
        if !term.phrase && !term.suffix && is_short(&norm) {
            self.warnings.push(Warning {
                column: col + 1,
                message: format!(
                    "short term {} (one syllable, or one or two letters) matches a lot of noise",
                    term_display(term)
                ),
            });
        }
        Ok(())
    }
}

/// The feed names `feed:NAME` terms of `expr` refer to, in query order, without duplicates.
pub fn feed_names(expr: &Expr) -> Vec<String> {
    fn walk(e: &Expr, in_feed: bool, out: &mut Vec<String>) {
        match e {
            Expr::Term(t) if in_feed => {
                if !out.contains(&t.text) {
                    out.push(t.text.clone());
                }
            }
            Expr::Term(_) => {}
            Expr::Field(f, inner) => walk(inner, in_feed || *f == Field::Feed, out),
            Expr::Not(inner) => walk(inner, in_feed, out),
            Expr::And(items) | Expr::Or(items) => {
                for i in items {
                    walk(i, in_feed, out);
                }
            }
            Expr::Near(a, b, _) => {
                walk(a, in_feed, out);
                walk(b, in_feed, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(expr, false, &mut out);
    out
}

fn term_display(t: &Term) -> String {
    Expr::Term(t.clone()).to_string()
}

/// One Hangul syllable (or other non-Latin character), or one or two Latin letters/digits.
fn is_short(norm: &str) -> bool {
    let n = norm.chars().count();
    if norm.chars().all(is_latin) {
        n <= 2
    } else {
        n <= 1
    }
}

fn positional(e: &Expr) -> bool {
    match e {
        Expr::Term(_) => true,
        Expr::Field(f, inner) => *f != Field::Feed && positional(inner),
        Expr::Or(items) => items.iter().all(positional),
        _ => false,
    }
}

fn contains_field(e: &Expr) -> bool {
    match e {
        Expr::Term(_) => false,
        Expr::Field(..) => true,
        Expr::Not(x) => contains_field(x),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().any(contains_field),
        Expr::Near(a, b, _) => contains_field(a) || contains_field(b),
    }
}

/// Under `feed:` only plain names, AND/OR/NOT of them make sense.
fn first_non_name(e: &Expr) -> Option<&'static str> {
    match e {
        Expr::Term(t) if t.phrase => Some("a phrase"),
        Expr::Term(t) if t.prefix || t.suffix || t.whole => Some("* or ="),
        Expr::Term(_) => None,
        Expr::Field(..) => Some("a field prefix"),
        Expr::Near(..) => Some("NEAR"),
        Expr::Not(x) => first_non_name(x),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().find_map(first_non_name),
    }
}

/// Whether every story the expression matches must contain something (a term, or come from a
/// named feed). `NOT x` alone matches by absence.
pub fn needs_positive(e: &Expr) -> bool {
    match e {
        Expr::Term(_) | Expr::Near(..) => true,
        Expr::Field(_, x) => needs_positive(x),
        Expr::Not(_) => false,
        Expr::And(xs) => xs.iter().any(needs_positive),
        Expr::Or(xs) => xs.iter().all(needs_positive),
    }
}

// ---- printer -----------------------------------------------------------------------------------

const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const NEAR: u8 = 4;
const ATOM: u8 = 5;

fn level(e: &Expr) -> u8 {
    match e {
        Expr::Or(_) => OR,
        Expr::And(_) => AND,
        Expr::Not(_) => NOT,
        Expr::Near(..) => NEAR,
        Expr::Term(_) | Expr::Field(..) => ATOM,
    }
}

fn write_at(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if level(e) < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.whole {
            f.write_str("=")?;
        }
        if self.phrase {
            let (open, close) = if self.text.contains(['"', '“', '”']) {
                ('‘', '’')
            } else {
                ('"', '"')
            };
            return write!(f, "{open}{}{close}", self.text);
        }
        if self.prefix {
            f.write_str("*")?;
        }
        f.write_str(&self.text)?;
        if self.suffix {
            f.write_str("*")?;
        }
        Ok(())
    }
}

impl fmt::Display for Expr {
    /// Canonical form: explicit AND, `NOT` for `-`, `NEAR/n`, parentheses wherever an AND sits
    /// inside an OR (so the output never draws the mixing warning).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Term(t) => write!(f, "{t}"),
            Expr::Field(field, x) => {
                write!(f, "{}:", field.name())?;
                write_at(f, x, ATOM)
            }
            Expr::Not(x) => {
                f.write_str("NOT ")?;
                write_at(f, x, NOT)
            }
            Expr::And(xs) | Expr::Or(xs) => {
                // Children of AND and OR that are themselves AND or OR are always parenthesised.
                let sep = if matches!(self, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    write_at(f, x, NOT)?;
                }
                Ok(())
            }
            Expr::Near(a, b, n) => {
                write_at(f, a, ATOM)?;
                write!(f, " NEAR/{n} ")?;
                write_at(f, b, ATOM)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> String {
        match parse(q) {
            Ok(p) => p.expr.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn precedence_and_printing() {
        let cases = [
            ("A B", "A AND B"),
            ("A AND B OR C", "(A AND B) OR C"),
            ("A OR B C", "A OR (B AND C)"),
            ("A NOT B", "A AND NOT B"),
            ("A -B", "A AND NOT B"),
            ("NOT A NEAR/3 B C", "NOT A NEAR/3 B AND C"),
            ("(A OR B) NEAR C", "(A OR B) NEAR/5 C"),
            ("title:(A OR B) summary:C", "title:(A OR B) AND summary:C"),
            ("“한국 기업” ‘AI’", "\"한국 기업\" AND \"AI\""),
            ("and or", "and AND or"),
            ("반도체* *기업 =메타", "반도체* AND *기업 AND =메타"),
            ("((A))", "A"),
            ("(A AND B) AND C", "(A AND B) AND C"),
            ("A OR (B OR C)", "A OR (B OR C)"),
            ("feed:yna 삼성", "feed:yna AND 삼성"),
            ("‘He said \"x\"’", "‘He said \"x\"’"),
        ];
        for (q, want) in cases {
            assert_eq!(p(q), want, "{q}");
            let again = parse(want).map(|p| p.expr);
            assert_eq!(again.ok(), parse(q).ok().map(|p| p.expr), "round trip {q}");
        }
    }

    #[test]
    fn errors_with_columns() {
        let cases = [
            ("OpenAI AND", "column 11: expected a term after AND"),
            ("OpenAI AND (", "column 13: expected a term after ("),
            ("(OpenAI OR 삼성", "column 1: unclosed ( : missing )"),
            ("OpenAI)", "column 7: unmatched )"),
            ("AND 삼성", "column 1: expected a term before AND"),
            (
                "\"한국 기업",
                "column 1: unterminated phrase: missing closing quote",
            ),
            (
                "NOT 주가",
                "column 1: the query can match through negation alone; add a term the story must contain (e.g. 반도체 NOT 주가)",
            ),
            (
                "-주가 -증시",
                "column 1: the query can match through negation alone; add a term the story must contain (e.g. 반도체 NOT 주가)",
            ),
            (
                "삼성 OR NOT 주가",
                "column 1: the query can match through negation alone; add a term the story must contain (e.g. 반도체 NOT 주가)",
            ),
            (
                "titel:삼성",
                "column 1: unknown field titel: (fields are title:, summary:, content:, feed:)",
            ),
            (
                "title: 삼성",
                "column 7: expected a term, a phrase or ( after title:",
            ),
            (
                "삼*성",
                "column 2: * is allowed only at the start or end of a term",
            ),
            (
                "반* 삼성",
                "column 2: a prefix search (term*) needs at least 2 Hangul syllables or 3 letters before *",
            ),
            (
                "ab*",
                "column 3: a prefix search (term*) needs at least 2 Hangul syllables or 3 letters before *",
            ),
            (
                "A NEAR/x B",
                "column 8: expected a number of words after NEAR/",
            ),
            (
                "A NEAR B NEAR C",
                "column 10: NEAR cannot be chained; join two NEARs with AND",
            ),
            (
                "(A AND B) NEAR C",
                "column 1: NEAR needs terms, phrases or OR groups of them on both sides",
            ),
            (
                "title:(summary:A)",
                "column 7: a field prefix cannot contain another field prefix",
            ),
            (
                "=메타*",
                "column 1: = (whole word) cannot be combined with *",
            ),
            ("\"\"", "column 1: empty phrase"),
            ("", "column 1: empty query"),
            ("A - B", "column 4: expected a term after -"),
            ("\u{200B}", "column 1: the term is empty once normalised"),
        ];
        for (q, want) in cases {
            assert_eq!(p(q), format!("error: {want}"), "{q:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |open: &str, close: &str, n: usize| open.repeat(n) + "a" + &close.repeat(n);
        assert_eq!(p(&deep("(", ")", MAX_NESTING)), "a");
        assert_eq!(
            p(&deep("(", ")", MAX_NESTING + 1)),
            "error: column 101: the query is nested more than 100 levels deep (parentheses, NOT, -)"
        );
        assert_eq!(
            p(&("b ".to_string() + &deep("NOT ", "", MAX_NESTING + 1))),
            "error: column 403: the query is nested more than 100 levels deep (parentheses, NOT, -)"
        );
        assert_eq!(
            p(&("b ".to_string() + &deep("-", "", MAX_NESTING + 1))),
            "error: column 103: the query is nested more than 100 levels deep (parentheses, NOT, -)"
        );
    }

    #[test]
    fn warnings() {
        let w = |q: &str| -> Vec<String> {
            parse(q)
                .map(|p| {
                    p.warnings
                        .iter()
                        .map(|w| format!("{}: {}", w.column, w.message))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            w("A AND 삼성 OR 애플"),
            vec![
                "1: short term A (one syllable, or one or two letters) matches a lot of noise"
                    .to_string(),
                "10: AND and OR mixed without parentheses; this reads as (A AND 삼성) OR 애플"
                    .to_string(),
            ]
        );
        assert_eq!(
            w("AI 책"),
            vec![
                "1: short term AI (one syllable, or one or two letters) matches a lot of noise"
                    .to_string(),
                "4: short term 책 (one syllable, or one or two letters) matches a lot of noise"
                    .to_string(),
            ]
        );
        assert!(w("(삼성 AND 애플) OR 구글").is_empty());
        assert!(w("\"AI 규제\" OpenAI 반도체").is_empty());
    }
}
