//! The user directory of the query backends (mxisd's `GenericSqlDirectoryProvider` and
//! `SynapseSqlDirectoryProvider`): `directory.query.name` and `directory.query.threepid`, each a
//! query returning the user (first column) and the display name (second), with `type`
//! `localpart` or `mxid` for the first column.
//!
//! The term is always bound, never spliced. As ma1sd bound it: the generic `sql` store gives each
//! placeholder the term as typed (the operator's query adds the wildcards, `LIKE '%' || ? ||
//! '%'`); `synapseSql` gives it `%term%`, for the default queries' `LIKE ?`. A query that says
//! `ESCAPE '!'` (the defaults do) gets the term's own LIKE wildcards escaped, so `50%` searches
//! for "50%" and `a_b` for "a_b" (`!` is the escape character: SQLite, PostgreSQL and MySQL read
//! it alike, where a backslash is itself an escape in MySQL's string literals). The backend
//! reads one row more than the limit, so it can say `limited` without reading everything.
use async_trait::async_trait;
use futures_util::{StreamExt as _, TryStreamExt as _};
use sea_orm::{DbBackend, QueryResult, StreamTrait as _, Value};
use verity_application::ports::driven::{BackendError, DirectorySearch};
use verity_domain::{
    DirectoryEntry, DirectoryResults, MatrixDomain, SearchLimit, SearchTerm, UserId,
};

use super::query::{Grammar, Param, QueryError, SqlBuilder, Template};
use super::rows::from_db;
use super::{QueryBackend, SqlDatabase};

/// What the first column of a directory query holds (`directory.query.*.type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryIdType {
    /// `mxid`: a whole user ID (what ma1sd did for anything but `localpart`).
    Mxid,
    /// `localpart`: a localpart, completed with this domain (and lower-cased, as ma1sd made it
    /// "acceptable").
    Localpart(MatrixDomain),
}

/// How the search term is bound to the query's placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermBinding {
    /// As typed (the generic `sql` store: the query adds its own wildcards).
    AsTyped,
    /// As `%term%` (`synapseSql`, whose default queries say `LIKE ?`).
    Contains,
}

/// One directory query: the SQL, with `?` (each one the term) or `:term`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryQuery {
    template: Template,
    /// The query says `ESCAPE '!'`: the term's `%`, `_` and `!` are escaped with `!`.
    escaped: bool,
    /// `type`.
    pub id_type: DirectoryIdType,
    /// How the term is bound.
    pub binding: TermBinding,
}

impl DirectoryQuery {
    /// Checks `sql`: at least one placeholder for the term.
    ///
    /// # Errors
    /// [`QueryError`] saying what is wrong.
    pub fn parse(
        sql: &str,
        id_type: DirectoryIdType,
        binding: TermBinding,
    ) -> Result<Self, QueryError> {
        let template = Template::parse_as(sql, Grammar::Directory)?;
        if template.params().next().is_none() {
            return Err(QueryError::new(
                "the query has no placeholder for the search term: write `?` (each one is the \
                 term) or :term",
            ));
        }
        Ok(Self {
            escaped: says_escape(sql),
            template,
            id_type,
            binding,
        })
    }

    /// The query as written.
    pub fn as_str(&self) -> &str {
        self.template.source()
    }

    /// The query's statement for `term`, as the operator wrote it. It is not wrapped in
    /// `SELECT * FROM (…) LIMIT`: MySQL and MariaDB refuse a derived table with two columns of
    /// one name (`SELECT login, login …`, which ma1sd read by position); the caller stops
    /// reading after the rows it needs instead.
    pub(crate) fn statement(&self, backend: DbBackend, term: &str) -> sea_orm::Statement {
        let term = if self.escaped {
            escape_like(term)
        } else {
            term.to_owned()
        };
        let value = match self.binding {
            TermBinding::AsTyped => term,
            TermBinding::Contains => format!("%{term}%"),
        };
        let mut sql = SqlBuilder::new(backend);
        self.template
            .render_with(&mut sql, |_: Param| Value::from(value.as_str()));
        sql.statement()
    }
}

/// The escape character of the LIKE patterns Verity writes.
pub const LIKE_ESCAPE: char = '!';

/// Whether `sql` has an `ESCAPE '!'` clause (any case, any spaces before the quote).
fn says_escape(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    lower.match_indices("escape").any(|(at, word)| {
        lower
            .get(at + word.len()..)
            .is_some_and(|rest| rest.trim_start().starts_with("'!'"))
    })
}

/// `term` with LIKE's wildcards (`%`, `_`) and the escape character itself preceded by
/// [`LIKE_ESCAPE`]: matched literally by `LIKE ... ESCAPE '!'`.
pub fn escape_like(term: &str) -> String {
    let mut escaped = String::with_capacity(term.len() + 2);
    for c in term.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            escaped.push(LIKE_ESCAPE);
        }
        escaped.push(c);
    }
    escaped
}

/// `directory.query.name` and `.threepid`; `None` is a search the store does not make.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryQueries {
    /// By name.
    pub by_name: Option<DirectoryQuery>,
    /// By 3PID.
    pub by_threepid: Option<DirectoryQuery>,
}

impl DirectoryQueries {
    /// ma1sd's `SynapseQueries` for `database` (SQLite or PostgreSQL), users of `domain`, with
    /// three fixes: PostgreSQL's name search is `ILIKE` (ma1sd's `LIKE` made it case-sensitive
    /// there, while SQLite's `LIKE` is not); a profile is joined on its `full_user_id` (ma1sd
    /// joined `users.name LIKE concat('@', profiles.user_id, ':%')`, where a `_` in a localpart
    /// is a wildcard: `@a_b` took the profile of `@axb`, and any domain matched); the term's
    /// wildcards are escaped (`ESCAPE '!'`).
    ///
    /// # Errors
    /// [`QueryError`] for a database Synapse does not run on (MySQL).
    pub fn synapse_defaults(
        database: &SqlDatabase,
        domain: &MatrixDomain,
    ) -> Result<Self, QueryError> {
        let (by_name, by_threepid) = synapse_default_sql(database, domain)?;
        let query =
            |sql: &str| DirectoryQuery::parse(sql, DirectoryIdType::Mxid, TermBinding::Contains);
        Ok(Self {
            by_name: Some(query(&by_name)?),
            by_threepid: Some(query(&by_threepid)?),
        })
    }
}

/// The SQL of [`DirectoryQueries::synapse_defaults`]: (by name, by 3PID).
///
/// Synapse keeps a user's whole ID in `profiles.full_user_id` (database schema 76, Synapse
/// 1.84; filled for every row since schema 78) and the localpart in `profiles.user_id`, which
/// it means to drop; the queries read the whole ID. `user_threepids.user_id` is the whole ID.
/// The domain is the one of the IDs these queries return (every `full_user_id` is of
/// Synapse's `server_name`, which is `matrix.domain`).
pub fn synapse_default_sql(
    database: &SqlDatabase,
    _domain: &MatrixDomain,
) -> Result<(String, String), QueryError> {
    match database {
        SqlDatabase::Sqlite { .. } => Ok((
            "select p.full_user_id, p.displayname from profiles p where p.displayname like ? \
             escape '!'"
                .to_owned(),
            "select t.user_id, p.displayname from user_threepids t JOIN profiles p on \
             t.user_id = p.full_user_id where t.address like ? escape '!'"
                .to_owned(),
        )),
        SqlDatabase::Postgres { .. } => Ok((
            "SELECT u.name, p.displayname FROM users u JOIN profiles p ON p.full_user_id = \
             u.name WHERE u.is_guest = 0 AND u.appservice_id IS NULL AND p.displayname ILIKE ? \
             ESCAPE '!'"
                .to_owned(),
            "select t.user_id, p.displayname from user_threepids t JOIN profiles p on \
             t.user_id = p.full_user_id where t.address ilike ? escape '!'"
                .to_owned(),
        )),
        SqlDatabase::MySql { .. } => Err(QueryError::new(
            "Synapse runs on SQLite or PostgreSQL only: write directory.query.*.value",
        )),
    }
}

impl QueryBackend {
    async fn directory_search(
        &self,
        query: Option<&DirectoryQuery>,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let Some(query) = query else {
            return Ok(DirectoryResults::default());
        };
        self.pass()?;
        let cap = limit.get().saturating_add(1);
        let rows: Vec<QueryResult> = self
            .db
            .stream_raw(query.statement(self.backend(), term.as_str()))
            .await
            .map_err(|err| self.failed(err))?
            .take(usize::try_from(cap).unwrap_or(usize::MAX))
            .try_collect()
            .await
            .map_err(|err| self.failed(err))?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            match person(row, &query.id_type)? {
                Some(entry) => found.push(entry),
                None => tracing::warn!(
                    section = self.section,
                    "a directory query returned a row whose first column is not a user ID \
                     (directory.query.*.type); left out"
                ),
            }
        }
        let mut results = DirectoryResults::within(found, limit);
        // One user on several rows (several matching addresses) may leave fewer people than
        // rows: reaching the cap still means there may be more.
        results.limited |= rows.len() > limit.as_usize();
        Ok(results)
    }
}

/// The person of a row: the user (first column, text or a number) and the display name.
fn person(
    row: &QueryResult,
    id_type: &DirectoryIdType,
) -> Result<Option<DirectoryEntry>, BackendError> {
    let id: Option<String> = match row.try_get_by_index::<Option<String>>(0) {
        Ok(value) => value,
        Err(err) => row
            .try_get_by_index::<Option<i64>>(0)
            .map_err(|_| from_db(err))?
            .map(|n| n.to_string()),
    };
    let Some(id) = id else { return Ok(None) };
    let user_id = match id_type {
        DirectoryIdType::Mxid => UserId::parse(&id).ok(),
        // A whole ID where a localpart was promised is taken as it is.
        DirectoryIdType::Localpart(domain) => UserId::from_store_id(&id, domain.as_str()).ok(),
    };
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    // A display name column that is NULL, or not text, is no display name.
    let name = if row.column_names().len() > 1 {
        row.try_get_by_index::<Option<String>>(1).ok().flatten()
    } else {
        None
    };
    Ok(Some(DirectoryEntry::new(user_id, name)))
}

#[async_trait]
impl DirectorySearch for QueryBackend {
    fn name(&self) -> &'static str {
        self.section
    }

    async fn search_by_name(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let query = self.directory.as_ref().and_then(|d| d.by_name.as_ref());
        self.directory_search(query, term, limit).await
    }

    async fn search_by_threepid(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let query = self.directory.as_ref().and_then(|d| d.by_threepid.as_ref());
        self.directory_search(query, term, limit).await
    }
}
