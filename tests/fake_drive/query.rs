//! Queries (`q`): the subset of Drive's query language the fake supports.

use super::FakeFile;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Eq,
    Ne,
    Open,
    Close,
}

/// One supported clause of a `q`.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Clause {
    Name(String),
    InParents(String),
    MimeEq(String),
    MimeNe(String),
    Trashed(bool),
    AppProperty(String, String),
}

impl Clause {
    pub(super) fn matches(&self, file: &FakeFile) -> bool {
        match self {
            Clause::Name(name) => &file.name == name,
            Clause::InParents(id) => file.parents.contains(id),
            Clause::MimeEq(mime) => &file.mime_type == mime,
            Clause::MimeNe(mime) => &file.mime_type != mime,
            // Nothing is ever in the trash: deletes are permanent.
            Clause::Trashed(trashed) => !trashed,
            Clause::AppProperty(key, value) => file.app_properties.get(key) == Some(value),
        }
    }
}

/// Parses clauses joined by `and`; an error names what is unsupported.
pub(super) fn parse_query(q: &str) -> Result<Vec<Clause>, String> {
    let tokens = lex(q)?;
    let mut clauses = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, tok) in tokens.iter().enumerate() {
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.checked_sub(1).ok_or("unbalanced `}`")?,
            Tok::Word(w) if depth == 0 && w.eq_ignore_ascii_case("and") => {
                clauses.push(parse_clause(&tokens[start..i])?);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced `{`".into());
    }
    clauses.push(parse_clause(&tokens[start..])?);
    Ok(clauses)
}

fn lex(q: &str) -> Result<Vec<Tok>, String> {
    let mut tokens = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '\'' => tokens.push(Tok::Str(lex_string(&mut chars)?)),
            '=' => tokens.push(Tok::Eq),
            '!' if chars.next_if_eq(&'=').is_some() => tokens.push(Tok::Ne),
            '{' => tokens.push(Tok::Open),
            '}' => tokens.push(Tok::Close),
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = c.to_string();
                while let Some(c) = chars.next_if(|c| c.is_alphanumeric() || *c == '_') {
                    word.push(c);
                }
                tokens.push(Tok::Word(word));
            }
            other => return Err(format!("unexpected character `{other}` in the query")),
        }
    }
    Ok(tokens)
}

/// The rest of a quoted string (after its opening quote).
fn lex_string(chars: &mut impl Iterator<Item = char>) -> Result<String, String> {
    let mut s = String::new();
    loop {
        match chars.next() {
            None => return Err("unterminated string in the query".into()),
            Some('\'') => return Ok(s),
            Some('\\') => match chars.next() {
                Some(c @ ('\'' | '\\')) => s.push(c),
                _ => return Err("bad escape in a query string".into()),
            },
            Some(c) => s.push(c),
        }
    }
}

fn is_word(tok: &Tok, word: &str) -> bool {
    matches!(tok, Tok::Word(w) if w.eq_ignore_ascii_case(word))
}

fn parse_clause(toks: &[Tok]) -> Result<Clause, String> {
    use Tok::{Close, Eq, Ne, Open, Str, Word};
    let clause = match toks {
        [Word(f), Eq, Str(v)] if f == "name" => Clause::Name(v.clone()),
        [Word(f), Eq, Str(v)] if f == "mimeType" => Clause::MimeEq(v.clone()),
        [Word(f), Ne, Str(v)] if f == "mimeType" => Clause::MimeNe(v.clone()),
        [Str(id), i, Word(p)] if is_word(i, "in") && p == "parents" => {
            Clause::InParents(id.clone())
        }
        [Word(f), Eq, b] if f == "trashed" && (is_word(b, "true") || is_word(b, "false")) => {
            Clause::Trashed(is_word(b, "true"))
        }
        [Word(f), has, Open, Word(k), Eq, Str(key), and, Word(v), Eq, Str(value), Close]
            if f == "appProperties"
                && is_word(has, "has")
                && k == "key"
                && is_word(and, "and")
                && v == "value" =>
        {
            Clause::AppProperty(key.clone(), value.clone())
        }
        _ => return Err(format!("unsupported query clause `{}`", render(toks))),
    };
    Ok(clause)
}

fn render(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Word(w) => w.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Eq => "=".into(),
            Tok::Ne => "!=".into(),
            Tok::Open => "{".into(),
            Tok::Close => "}".into(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
