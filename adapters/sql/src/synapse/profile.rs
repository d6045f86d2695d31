//! Profiles from the query backends (mxisd/ma1sd's `SqlProfileProvider`, for `synapseSql` and
//! `sql`): `profile.displayName.query` (the first column of the first row), `profile.threepid.query`
//! (columns medium, address) and `profile.role.query` (the first column of each row).
//!
//! Each placeholder (`?`, or `:user`) is the user, as a Matrix ID or as a localpart. ma1sd bound
//! the Matrix ID to the first `?` of the display-name and 3PID queries and the role type's form to
//! every `?` of the role query; here every query has a type and every placeholder is bound.
//! ma1sd's `synapseSql` defaults are kept where they work on today's Synapse, and fixed where not
//! (see [`ProfileQueries::synapse_defaults`]).
use async_trait::async_trait;
use sea_orm::{ConnectionTrait as _, DbBackend, QueryResult, Value};
use verity_application::ports::driven::{BackendError, ProfileSource};
use verity_domain::{MatrixDomain, Medium, Profile, ThreePid, UserId};

use super::QueryBackend;
use super::query::{Grammar, Param, QueryError, SqlBuilder, Template};
use super::rows::from_db;

/// Which form of the user a profile query is given (`profile.role.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileUser {
    /// `mxid`: the whole user ID, `@alice:example.org`.
    Mxid,
    /// `localpart`: `alice`; only users of the backend's domain have one here.
    Localpart,
}

/// One profile query and the form of the user it is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileQuery {
    template: Template,
    /// What each placeholder is given.
    pub user: ProfileUser,
}

impl ProfileQuery {
    /// Checks `sql`: at least one placeholder for the user.
    ///
    /// # Errors
    /// [`QueryError`] saying what is wrong.
    pub fn parse(sql: &str, user: ProfileUser) -> Result<Self, QueryError> {
        let template = Template::parse_as(sql, Grammar::Profile)?;
        if template.params().next().is_none() {
            return Err(QueryError::new(
                "the query has no placeholder for the user: write `?` (each one is the user) or \
                 :user",
            ));
        }
        Ok(Self { template, user })
    }

    /// The query as written.
    pub fn as_str(&self) -> &str {
        self.template.source()
    }

    /// The statement for `user`, or `None` when the query takes a localpart and `user` is not of
    /// `domain` (no row of this store can be theirs).
    fn statement(
        &self,
        backend: DbBackend,
        user: &UserId,
        domain: &MatrixDomain,
    ) -> Option<sea_orm::Statement> {
        let value = match self.user {
            ProfileUser::Mxid => user.as_str(),
            ProfileUser::Localpart if user.server_name().eq_ignore_ascii_case(domain.as_str()) => {
                user.localpart()
            }
            ProfileUser::Localpart => return None,
        };
        let mut sql = SqlBuilder::new(backend);
        self.template
            .render_with(&mut sql, |_: Param| Value::from(value));
        Some(sql.statement())
    }
}

/// `profile.*`: the queries a backend answers profiles with; `None` is a part it does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileQueries {
    /// `profile.displayName.query`.
    pub display_name: Option<ProfileQuery>,
    /// `profile.threepid.query`.
    pub threepids: Option<ProfileQuery>,
    /// `profile.role.query`, with `profile.role.type`.
    pub roles: Option<ProfileQuery>,
    /// The domain whose users have a localpart here (`matrix.domain`).
    pub domain: MatrixDomain,
}

/// Synapse's display names, by localpart: `profiles.user_id` holds the localpart on every
/// Synapse version (ma1sd bound the whole Matrix ID, which never matched).
pub const SYNAPSE_DISPLAY_NAME: &str = "SELECT displayname FROM profiles WHERE user_id = ?";
/// The 3PIDs on a Synapse account, by Matrix ID (ma1sd's default, for both stores).
pub const SYNAPSE_THREEPIDS: &str = "SELECT medium, address FROM user_threepids WHERE user_id = ?";

impl ProfileQueries {
    /// No query: the operator's own, set one by one.
    pub fn none(domain: MatrixDomain) -> Self {
        Self {
            display_name: None,
            threepids: None,
            roles: None,
            domain,
        }
    }

    /// What `synapseSql` reads unless told otherwise: the display name from `profiles` and the
    /// account's 3PIDs from `user_threepids`. No roles: ma1sd read them from `group_users`, which
    /// Synapse dropped with groups (1.61); a role query must be written for the operator's data.
    ///
    /// # Errors
    /// Never in practice: the defaults parse (a [`QueryError`] would be a bug here).
    pub fn synapse_defaults(domain: MatrixDomain) -> Result<Self, QueryError> {
        Ok(Self {
            display_name: Some(ProfileQuery::parse(
                SYNAPSE_DISPLAY_NAME,
                ProfileUser::Localpart,
            )?),
            threepids: Some(ProfileQuery::parse(SYNAPSE_THREEPIDS, ProfileUser::Mxid)?),
            roles: None,
            domain,
        })
    }

    /// Whether any part is read.
    pub fn any(&self) -> bool {
        self.display_name.is_some() || self.threepids.is_some() || self.roles.is_some()
    }
}

impl QueryBackend {
    /// The rows `query` selects for `user`; none when the query cannot apply to them.
    async fn profile_rows(
        &self,
        query: Option<&ProfileQuery>,
        user: &UserId,
        domain: &MatrixDomain,
    ) -> Result<Vec<QueryResult>, BackendError> {
        let Some(statement) = query.and_then(|q| q.statement(self.backend(), user, domain)) else {
            return Ok(Vec::new());
        };
        self.pass()?;
        self.db
            .query_all_raw(statement)
            .await
            .map_err(|err| self.failed(err))
    }
}

/// The first column of `row` as text (`None` for NULL).
fn text(row: &QueryResult, index: usize) -> Result<Option<String>, BackendError> {
    row.try_get_by_index(index).map_err(from_db)
}

#[async_trait]
impl ProfileSource for QueryBackend {
    fn name(&self) -> &'static str {
        self.section
    }

    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, BackendError> {
        let Some(queries) = &self.profile else {
            return Ok(None);
        };
        let domain = &queries.domain;
        let mut profile = Profile::default();
        let mut known = false;

        let names = self
            .profile_rows(queries.display_name.as_ref(), user, domain)
            .await?;
        if let Some(row) = names.first() {
            known = true;
            if let Some(name) = text(row, 0)? {
                profile = profile.with_display_name(&name);
            }
        }
        for row in self
            .profile_rows(queries.threepids.as_ref(), user, domain)
            .await?
        {
            known = true;
            let (Some(medium), Some(address)) = (text(&row, 0)?, text(&row, 1)?) else {
                continue;
            };
            // A medium Verity does not handle (Synapse's old `msisdn` spellings aside, there
            // are none today) or an address that does not parse is left out, not an error: the
            // rest of the profile still counts.
            match Medium::parse(&medium).map(|medium| ThreePid::parse(medium, &address)) {
                Ok(Ok(threepid)) => profile.add_threepid(threepid),
                _ => tracing::debug!(
                    section = self.section,
                    medium,
                    "a profile 3PID that is not a valid 3PID is left out"
                ),
            }
        }
        for row in self
            .profile_rows(queries.roles.as_ref(), user, domain)
            .await?
        {
            known = true;
            if let Some(role) = text(&row, 0)? {
                profile.add_role(&role);
            }
        }
        Ok(known.then_some(profile))
    }
}
