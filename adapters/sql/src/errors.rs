//! Translating sea-orm errors into the ports' [`StoreError`], so no library error crosses a port.
use sea_orm::{DbErr, RuntimeErr, sqlx};
use verity_application::ports::driven::StoreError;

/// A failed database call. A value that cannot be decoded into the column's Rust type (possible
/// on SQLite, whose columns accept any type, or after a hand edit) is a corrupt row; everything
/// else means the store did not do its job and is [`StoreError::Unavailable`].
pub(crate) fn from_db(err: DbErr) -> StoreError {
    if is_decode_error(&err) {
        return StoreError::Corrupt(format!("a stored value has the wrong type: {err}"));
    }
    StoreError::Unavailable(Box::new(err))
}

fn is_decode_error(err: &DbErr) -> bool {
    match err {
        DbErr::Type(_) | DbErr::TryIntoErr { .. } | DbErr::Json(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(inner)) | DbErr::Exec(RuntimeErr::SqlxError(inner)) => {
            matches!(
                inner.as_ref(),
                sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)
            )
        }
        _ => false,
    }
}

/// Converts a domain value (`u64` milliseconds or counters) to its signed column, refusing instead
/// of wrapping: a value past `i64::MAX` would otherwise come back negative.
pub(crate) fn to_column<T, U>(value: T, what: &str) -> Result<U, StoreError>
where
    U: TryFrom<T>,
{
    U::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} does not fit its column")))
}

/// Converts a signed column back to its domain type; a negative or oversized value is corrupt.
pub(crate) fn from_column<T, U>(value: T, what: &str) -> Result<U, StoreError>
where
    U: TryFrom<T>,
    T: std::fmt::Display + Copy,
{
    U::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} is out of range: {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_past_the_signed_range_are_refused_instead_of_wrapping() {
        assert!(matches!(
            to_column::<u64, i64>(u64::MAX, "created_at"),
            Err(StoreError::Corrupt(what)) if what.contains("created_at")
        ));
        assert_eq!(to_column::<u64, i64>(42, "created_at").ok(), Some(42));
    }

    #[test]
    fn negative_columns_are_corrupt() {
        assert!(matches!(
            from_column::<i64, u64>(-1, "validated_at"),
            Err(StoreError::Corrupt(what)) if what.contains("validated_at")
        ));
        assert_eq!(from_column::<i32, u32>(3, "failed_attempts").ok(), Some(3));
    }

    #[test]
    fn connection_failures_are_unavailable() {
        let err = from_db(DbErr::Conn(RuntimeErr::Internal("refused".into())));
        assert!(matches!(err, StoreError::Unavailable(_)));
    }

    #[test]
    fn type_mismatches_are_corrupt() {
        let err = from_db(DbErr::Type("expected i64".into()));
        assert!(matches!(err, StoreError::Corrupt(_)));
    }
}
