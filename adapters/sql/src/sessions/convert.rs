//! Between a [`ValidationSession`] and its `verity_session` row.
use sea_orm::ActiveValue::Set;
use verity_application::ports::driven::StoreError;
use verity_domain::{
    ClientSecret, Medium, SendAttempt, ServerLabel, SessionId, SessionMode, SessionParts, ThreePid,
    Timestamp, ValidationSession, ValidationToken,
};

use super::entity::{ActiveModel, Model};
use crate::errors::{from_column, to_column};

const LOCAL: &str = "local";
const LOCAL_OFFER_REMOTE: &str = "local_offer_remote";
const REMOTE_PENDING: &str = "remote_pending";

/// The row for `session`, every column set.
pub(super) fn to_row(session: &ValidationSession) -> Result<ActiveModel, StoreError> {
    let parts = session.parts();
    let (mode, mode_server) = match &parts.mode {
        SessionMode::Local => (LOCAL, None),
        SessionMode::LocalOfferRemote(label) => (LOCAL_OFFER_REMOTE, Some(label.as_str())),
        SessionMode::RemotePending(label) => (REMOTE_PENDING, Some(label.as_str())),
    };
    let modified_at = parts.validated_at.unwrap_or(parts.created_at);
    Ok(ActiveModel {
        sid: Set(parts.id.as_str().to_owned()),
        client_secret: Set(parts.client_secret.expose().to_owned()),
        medium: Set(parts.threepid.medium().as_str().to_owned()),
        address: Set(parts.threepid.address().to_owned()),
        token: Set(parts.token.expose().to_owned()),
        send_attempt: Set(to_column(parts.send_attempt.value(), "send_attempt")?),
        next_link: Set(parts.next_link.clone()),
        mode: Set(mode.to_owned()),
        mode_server: Set(mode_server.map(str::to_owned)),
        created_at: Set(millis_to_column(parts.created_at, "created_at")?),
        validated_at: Set(parts
            .validated_at
            .map(|at| millis_to_column(at, "validated_at"))
            .transpose()?),
        modified_at: Set(millis_to_column(modified_at, "modified_at")?),
        failed_attempts: Set(to_column(parts.token_attempts, "failed_attempts")?),
    })
}

/// The session a row holds, or [`StoreError::Corrupt`] naming the sid and the column that does not
/// parse (never the value of a secret).
pub(super) fn from_row(row: Model) -> Result<ValidationSession, StoreError> {
    let sid = row.sid;
    let corrupt = |what: &str| StoreError::Corrupt(format!("session {sid:?}: {what}"));
    let id = SessionId::parse(&sid).map_err(|_| corrupt("sid is not a valid session id"))?;
    let client_secret = ClientSecret::parse(&row.client_secret)
        .map_err(|_| corrupt("client_secret is not a valid client secret"))?;
    let medium = Medium::parse(&row.medium)
        .map_err(|_| corrupt(&format!("medium {:?} is not a medium", row.medium)))?;
    let threepid = ThreePid::parse(medium, &row.address)
        .map_err(|err| corrupt(&format!("address is not a valid {}: {err}", row.medium)))?;
    let token =
        ValidationToken::parse(&row.token).map_err(|_| corrupt("token is not a valid token"))?;
    let mode = parse_mode(&row.mode, row.mode_server.as_deref()).map_err(|what| corrupt(&what))?;
    let parts = SessionParts {
        id,
        client_secret,
        threepid,
        token,
        send_attempt: SendAttempt::new(from_column(row.send_attempt, "send_attempt")?),
        next_link: row.next_link,
        mode,
        created_at: Timestamp::from_millis(from_column(row.created_at, "created_at")?),
        validated_at: row
            .validated_at
            .map(|at| from_column(at, "validated_at").map(Timestamp::from_millis))
            .transpose()?,
        token_attempts: from_column(row.failed_attempts, "failed_attempts")?,
    };
    Ok(ValidationSession::from_parts(parts))
}

pub(super) fn millis_to_column(at: Timestamp, what: &str) -> Result<i64, StoreError> {
    to_column(at.as_millis(), what)
}

/// Local mode has no server; the two remote modes must name one.
fn parse_mode(mode: &str, server: Option<&str>) -> Result<SessionMode, String> {
    let label = || {
        let raw = server.ok_or_else(|| format!("mode {mode} has no mode_server"))?;
        ServerLabel::parse(raw).map_err(|err| format!("mode_server: {err}"))
    };
    match (mode, server) {
        (LOCAL, None) => Ok(SessionMode::Local),
        (LOCAL, Some(_)) => Err("mode local has a mode_server".to_owned()),
        (LOCAL_OFFER_REMOTE, _) => label().map(SessionMode::LocalOfferRemote),
        (REMOTE_PENDING, _) => label().map(SessionMode::RemotePending),
        (other, _) => Err(format!("mode {other:?} is not a session mode")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_reads_back_from_its_columns() {
        let root = ServerLabel::parse("root").unwrap();
        assert_eq!(parse_mode("local", None), Ok(SessionMode::Local));
        assert_eq!(
            parse_mode("local_offer_remote", Some("root")),
            Ok(SessionMode::LocalOfferRemote(root.clone()))
        );
        assert_eq!(
            parse_mode("remote_pending", Some("root")),
            Ok(SessionMode::RemotePending(root))
        );
    }

    #[test]
    fn inconsistent_mode_columns_are_refused() {
        for (mode, server) in [
            ("local", Some("root")),
            ("remote_pending", None),
            ("local_offer_remote", Some("not a label")),
            ("Local", None),
        ] {
            assert!(parse_mode(mode, server).is_err(), "{mode} {server:?}");
        }
    }
}
