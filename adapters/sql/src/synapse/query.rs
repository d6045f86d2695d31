//! Operator-written SQL (mxisd's `synapseSql.identity.query`, `identity.medium.<medium>` and
//! `lookup.query`), checked once when the configuration is read and rendered per backend.
//!
//! Placeholders, outside string literals, quoted identifiers and comments:
//! - `?` (JDBC, as mxisd/ma1sd wrote them): exactly two, the medium then the address;
//! - or `:medium` and `:address`, each as often as needed, in any order.
//!
//! On PostgreSQL they are rewritten to `$1`, `$2`, ...; writing `$1` yourself is refused, since
//! the numbering is Verity's.
use std::fmt;

use sea_orm::{DbBackend, Value};

/// Why an operator-written query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(String);

impl QueryError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    Medium,
    Address,
    /// A directory search's term (`directory.query.*`).
    Term,
    /// The user whose profile is read (`profile.*.query`).
    User,
}

/// Which placeholders a query may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grammar {
    /// Lookups: two `?` (the medium, then the address), or `:medium` and `:address`.
    Identity,
    /// Directory searches: every `?` (or `:term`) is the search term, as ma1sd bound it.
    Directory,
    /// Profiles: every `?` (or `:user`) is the user, as a Matrix ID or a localpart.
    Profile,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Sql(String),
    Param(Param),
}

/// A query split at its placeholders.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Template {
    /// As the operator wrote it (trimmed), for `--dump-config`.
    source: String,
    parts: Vec<Part>,
}

impl Template {
    fn parse(sql: &str) -> Result<Self, QueryError> {
        Self::parse_as(sql, Grammar::Identity)
    }

    pub(crate) fn parse_as(sql: &str, grammar: Grammar) -> Result<Self, QueryError> {
        let source = sql.trim().to_owned();
        // A trailing `;` is harmless alone but breaks the query once wrapped in a sub-query.
        let body = source.trim_end_matches(|c: char| c == ';' || c.is_whitespace());
        if body.is_empty() {
            return Err(QueryError("the query is empty".into()));
        }
        Ok(Self {
            parts: split(body, grammar)?,
            source,
        })
    }

    pub(crate) fn params(&self) -> impl Iterator<Item = Param> + '_ {
        self.parts.iter().filter_map(|part| match part {
            Part::Param(param) => Some(*param),
            Part::Sql(_) => None,
        })
    }
}

impl Template {
    /// The query as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The SQL without a trailing `;`, each placeholder bound to the value `value` gives it.
    pub(crate) fn render_with(&self, sql: &mut SqlBuilder, value: impl Fn(Param) -> Value) {
        for part in &self.parts {
            match part {
                Part::Sql(text) => sql.push(text),
                Part::Param(param) => sql.bind(value(*param)),
            }
        }
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A custom identity query: given a medium and an address, the user as the first row's `uid`
/// column (or its first column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityQuery(Template);

impl IdentityQuery {
    /// Checks `sql`: placeholders as the module says, at least the address.
    ///
    /// # Errors
    /// [`QueryError`] saying what is wrong.
    pub fn parse(sql: &str) -> Result<Self, QueryError> {
        let template = Template::parse(sql)?;
        if !template.params().any(|param| param == Param::Address) {
            return Err(QueryError(
                "the query has no placeholder for the address: write `?` twice (the medium, then \
                 the address) or use :medium and :address"
                    .into(),
            ));
        }
        Ok(Self(template))
    }

    /// The query as written.
    pub fn as_str(&self) -> &str {
        &self.0.source
    }

    /// The statement for `backend` with `medium` and `address` bound.
    pub(crate) fn render(&self, backend: DbBackend, medium: &str, address: &str) -> SqlBuilder {
        let mut sql = SqlBuilder::new(backend);
        // An identity query has no `Term` (its grammar has none).
        self.0.render_with(&mut sql, |param| match param {
            Param::Medium => Value::from(medium),
            Param::Address | Param::Term | Param::User => Value::from(address),
        });
        sql
    }
}

/// A custom hash-lookup feed query (mxisd's `lookup.query`): every published 3PID, as columns
/// `mxid`, `medium` and `address`, without placeholders. Verity pages through it in a sub-query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery(Template);

impl FeedQuery {
    /// Checks `sql`: it must have no placeholder.
    ///
    /// # Errors
    /// [`QueryError`] saying what is wrong.
    pub fn parse(sql: &str) -> Result<Self, QueryError> {
        let template = Template::parse(sql)?;
        if template.params().next().is_some() {
            return Err(QueryError(
                "the query must not have placeholders: it lists every published 3PID as columns \
                 mxid, medium and address"
                    .into(),
            ));
        }
        Ok(Self(template))
    }

    /// The query as written.
    pub fn as_str(&self) -> &str {
        &self.0.source
    }

    /// The SQL to embed as a sub-query (no placeholders, no trailing `;`).
    pub(crate) fn body(&self) -> String {
        self.0
            .parts
            .iter()
            .map(|part| match part {
                Part::Sql(text) => text.as_str(),
                Part::Param(_) => "",
            })
            .collect()
    }
}

/// Splits `sql` at its placeholders, copying literals, quoted identifiers and comments unchanged.
fn split(sql: &str, grammar: Grammar) -> Result<Vec<Part>, QueryError> {
    let chars: Vec<char> = sql.chars().collect();
    let mut parts = Vec::new();
    let mut text = String::new();
    let (mut positional, mut named) = (0usize, false);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\'' | '"' => {
                let end = closing(&chars, i + 1, |j| chars[j] == c).ok_or_else(|| {
                    QueryError(format!(
                        "a {c} opened at character {} is never closed",
                        i + 1
                    ))
                })?;
                text.extend(&chars[i..=end]);
                i = end + 1;
            }
            '-' if next == Some('-') => {
                let end = closing(&chars, i, |j| chars[j] == '\n').unwrap_or(chars.len() - 1);
                text.extend(&chars[i..=end]);
                i = end + 1;
            }
            '/' if next == Some('*') => {
                let end = closing(&chars, i + 2, |j| {
                    chars[j] == '/' && j > 0 && chars[j - 1] == '*' && j >= i + 3
                })
                .ok_or_else(|| QueryError("a /* comment is never closed".into()))?;
                text.extend(&chars[i..=end]);
                i = end + 1;
            }
            '?' => {
                positional += 1;
                let param = match (grammar, positional) {
                    (Grammar::Directory, _) => Param::Term,
                    (Grammar::Profile, _) => Param::User,
                    (Grammar::Identity, 1) => Param::Medium,
                    (Grammar::Identity, 2) => Param::Address,
                    (Grammar::Identity, _) => {
                        return Err(QueryError(
                            "more than two `?` placeholders: the first is the medium, the second \
                             the address; use :medium and :address to repeat them"
                                .into(),
                        ));
                    }
                };
                parts.push(Part::Sql(std::mem::take(&mut text)));
                parts.push(Part::Param(param));
                i += 1;
            }
            ':' if next == Some(':') => {
                // A PostgreSQL cast, `::text`.
                text.push_str("::");
                i += 2;
            }
            ':' if next.is_some_and(|n| n.is_ascii_alphabetic() || n == '_') => {
                let end = (i + 1..chars.len())
                    .find(|&j| !(chars[j].is_ascii_alphanumeric() || chars[j] == '_'))
                    .unwrap_or(chars.len());
                let name: String = chars[i + 1..end].iter().collect();
                let param = match (grammar, name.as_str()) {
                    (Grammar::Identity, "medium") => Param::Medium,
                    (Grammar::Identity, "address") => Param::Address,
                    (Grammar::Directory, "term") => Param::Term,
                    (Grammar::Profile, "user") => Param::User,
                    (Grammar::Identity, _) => {
                        return Err(QueryError(format!(
                            "unknown placeholder :{name}; the placeholders are :medium and \
                             :address (or `?`, twice)"
                        )));
                    }
                    (Grammar::Directory, _) => {
                        return Err(QueryError(format!(
                            "unknown placeholder :{name}; the search term is `?` (each one) or \
                             :term"
                        )));
                    }
                    (Grammar::Profile, _) => {
                        return Err(QueryError(format!(
                            "unknown placeholder :{name}; the user is `?` (each one) or :user"
                        )));
                    }
                };
                named = true;
                parts.push(Part::Sql(std::mem::take(&mut text)));
                parts.push(Part::Param(param));
                i = end;
            }
            '$' if next.is_some_and(|n| n.is_ascii_digit()) => {
                return Err(QueryError(
                    "numbered placeholders ($1) are not supported: write `?` (the medium, then \
                     the address) or :medium and :address; Verity numbers them for PostgreSQL"
                        .into(),
                ));
            }
            _ => {
                text.push(c);
                i += 1;
            }
        }
    }
    if named && positional > 0 {
        return Err(QueryError(
            "the query mixes `?` with named placeholders; use one style".into(),
        ));
    }
    if grammar == Grammar::Identity && positional == 1 {
        return Err(QueryError(
            "a single `?`: mxisd binds two, the medium then the address; use :address alone if \
             the medium is not needed"
                .into(),
        ));
    }
    parts.push(Part::Sql(text));
    parts.retain(|part| !matches!(part, Part::Sql(text) if text.is_empty()));
    Ok(parts)
}

/// The first index from `from` where `is_end` holds.
fn closing(chars: &[char], from: usize, is_end: impl Fn(usize) -> bool) -> Option<usize> {
    (from..chars.len()).find(|&j| is_end(j))
}

/// A statement under construction, with the placeholder syntax of its backend.
pub(crate) struct SqlBuilder {
    backend: DbBackend,
    sql: String,
    values: Vec<Value>,
}

impl SqlBuilder {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            sql: String::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                let n = self.values.len();
                self.sql.push_str(&format!("${n}"));
            }
            _ => self.sql.push('?'),
        }
    }

    pub(crate) fn statement(self) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(self.backend, self.sql, self.values)
    }

    #[cfg(test)]
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(sql: &str, backend: DbBackend) -> String {
        IdentityQuery::parse(sql)
            .unwrap()
            .render(backend, "email", "a@b.c")
            .sql()
            .to_owned()
    }

    #[test]
    fn mxisd_queries_keep_their_question_marks_on_sqlite_and_are_numbered_on_postgres() {
        let query = "SELECT user_id AS uid FROM user_threepids WHERE medium = ? AND address = ?";
        assert_eq!(rendered(query, DbBackend::Sqlite), query);
        assert_eq!(
            rendered(query, DbBackend::Postgres),
            "SELECT user_id AS uid FROM user_threepids WHERE medium = $1 AND address = $2"
        );
    }

    #[test]
    fn named_placeholders_may_repeat_and_come_in_any_order() {
        let query = IdentityQuery::parse(
            "SELECT u AS uid FROM t WHERE lower(address) = lower(:address) OR alt = :address \
             AND medium = :medium",
        )
        .unwrap();
        let built = query.render(DbBackend::Postgres, "email", "a@b.c");
        assert_eq!(
            built.sql(),
            "SELECT u AS uid FROM t WHERE lower(address) = lower($1) OR alt = $2 AND medium = $3"
        );
        assert_eq!(
            built.values,
            vec![
                Value::from("a@b.c"),
                Value::from("a@b.c"),
                Value::from("email")
            ]
        );
    }

    #[test]
    fn placeholders_inside_literals_identifiers_comments_and_casts_are_text() {
        let query = "SELECT '?' || \":medium\" AS uid -- ? here\n FROM t /* :x ? */ \
                     WHERE a = ?::text AND b = ? AND c = 'it''s ?'";
        assert_eq!(
            rendered(query, DbBackend::Postgres),
            "SELECT '?' || \":medium\" AS uid -- ? here\n FROM t /* :x ? */ \
             WHERE a = $1::text AND b = $2 AND c = 'it''s ?'"
        );
    }

    #[test]
    fn a_trailing_semicolon_is_dropped_but_the_source_is_kept() {
        let query = FeedQuery::parse(" SELECT user_id AS mxid, medium, address FROM t; ").unwrap();
        assert_eq!(
            query.body(),
            "SELECT user_id AS mxid, medium, address FROM t"
        );
        assert_eq!(
            query.as_str(),
            "SELECT user_id AS mxid, medium, address FROM t;"
        );
    }

    #[test]
    fn malformed_queries_are_refused_with_a_reason() {
        for (sql, says) in [
            ("", "empty"),
            ("SELECT uid FROM t WHERE medium = ?", "single `?`"),
            (
                "SELECT uid FROM t WHERE a = ? AND b = ? AND c = ?",
                "more than two",
            ),
            (
                "SELECT uid FROM t WHERE a = :mail",
                "unknown placeholder :mail",
            ),
            ("SELECT uid FROM t WHERE a = $1", "numbered"),
            ("SELECT uid FROM t WHERE a = ? AND b = :address", "mixes"),
            ("SELECT uid FROM t WHERE a = 'open", "never closed"),
            ("SELECT uid FROM t /* open", "never closed"),
            (
                "SELECT uid FROM t WHERE medium = :medium",
                "no placeholder for the address",
            ),
        ] {
            let err = IdentityQuery::parse(sql).unwrap_err();
            assert!(err.to_string().contains(says), "{sql:?}: {err}");
        }
        let err = FeedQuery::parse("SELECT * FROM t WHERE medium = :medium").unwrap_err();
        assert!(
            err.to_string().contains("must not have placeholders"),
            "{err}"
        );
    }

    #[test]
    fn a_comment_closing_right_after_it_opens_is_not_closed() {
        // `/*/` does not close the comment it opens.
        assert!(IdentityQuery::parse("SELECT uid FROM t /*/ WHERE a = :address").is_err());
        assert!(IdentityQuery::parse("SELECT uid FROM t /**/ WHERE a = :address").is_ok());
    }
}
