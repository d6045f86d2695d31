//! Rows -> bindings, and database errors -> [`BackendError`].
use sea_orm::{DbErr, QueryResult, RuntimeErr, sqlx};
use verity_application::ports::driven::{BackendError, Binding};
use verity_domain::{Medium, ThreePid, UserId};

/// A failed call: a value of the wrong type (SQLite columns take anything) is corrupt data,
/// anything else means the database did not answer.
pub(crate) fn from_db(err: DbErr) -> BackendError {
    let decode = match &err {
        DbErr::Type(_) | DbErr::TryIntoErr { .. } => true,
        DbErr::Query(RuntimeErr::SqlxError(inner)) => matches!(
            inner.as_ref(),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)
        ),
        _ => false,
    };
    if decode {
        return BackendError::Corrupt(format!("a row has a value of the wrong type: {err}"));
    }
    BackendError::Unavailable(Box::new(err))
}

/// A row of `medium, address, user ID` (in that order). The row is named by its 3PID in errors;
/// a bad user ID is not repeated, since it may be anything.
pub(crate) fn parse_binding(row: &QueryResult) -> Result<Binding, BackendError> {
    let medium: Option<String> = row.try_get_by_index(0).map_err(from_db)?;
    let address: Option<String> = row.try_get_by_index(1).map_err(from_db)?;
    let user_id: Option<String> = row.try_get_by_index(2).map_err(from_db)?;
    let (Some(medium), Some(address)) = (medium, address) else {
        return Err(BackendError::Corrupt(
            "a row has no medium or no address".into(),
        ));
    };
    let name = format!("{medium}:{address}");
    let threepid = Medium::parse(&medium)
        .ok()
        .and_then(|medium| ThreePid::parse(medium, &address).ok())
        .ok_or_else(|| {
            BackendError::Corrupt(format!("the row for {name:?} is not a valid 3PID"))
        })?;
    let user_id = user_id
        .ok_or_else(|| BackendError::Corrupt(format!("the row for {threepid} has no user ID")))?;
    Ok(Binding {
        user_id: parse_user(&user_id, &threepid.to_string())?,
        threepid,
    })
}

/// `raw` as a user ID, or a corrupt row named `row`.
pub(crate) fn parse_user(raw: &str, row: &str) -> Result<UserId, BackendError> {
    UserId::parse(raw)
        .map_err(|_| BackendError::Corrupt(format!("the row for {row} has an invalid user ID")))
}
