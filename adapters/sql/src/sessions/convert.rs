//! Between a [`ValidationSession`] and its `verity_session` row.
use sea_orm::ActiveValue::Set;
use verity_application::ports::driven::StoreError;
use verity_domain::{
    ClientSecret, Medium, RemoteSession, SendAttempt, ServerLabel, SessionId, SessionMode,
    SessionParts, ThreePid, Timestamp, UserId, ValidationSession, ValidationToken,
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
    let remote = parts.remote.as_ref();
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
        remote_server: Set(remote.map(|r| r.server.as_str().to_owned())),
        remote_base_url: Set(remote.map(|r| r.base_url.clone())),
        remote_sid: Set(remote.map(|r| r.sid.as_str().to_owned())),
        remote_client_secret: Set(remote.map(|r| r.client_secret.expose().to_owned())),
        remote_send_attempt: Set(remote
            .map(|r| to_column(r.send_attempt.value(), "remote_send_attempt"))
            .transpose()?),
        remote_validated_at: Set(remote
            .and_then(|r| r.validated_at)
            .map(|at| millis_to_column(at, "remote_validated_at"))
            .transpose()?),
        bound_to: Set(parts.bound_to.as_ref().map(|user| user.as_str().to_owned())),
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
    let remote = parse_remote(RemoteColumns {
        server: row.remote_server,
        base_url: row.remote_base_url,
        sid: row.remote_sid,
        client_secret: row.remote_client_secret,
        send_attempt: row.remote_send_attempt,
        validated_at: row.remote_validated_at,
    })
    .map_err(|what| corrupt(&what))?;
    let bound_to = row
        .bound_to
        .as_deref()
        .map(UserId::parse)
        .transpose()
        .map_err(|_| corrupt("bound_to is not a valid Matrix user ID"))?;
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
        remote,
        bound_to,
    };
    Ok(ValidationSession::from_parts(parts))
}

pub(super) fn millis_to_column(at: Timestamp, what: &str) -> Result<i64, StoreError> {
    to_column(at.as_millis(), what)
}

/// The `remote_*` columns of a row.
struct RemoteColumns {
    server: Option<String>,
    base_url: Option<String>,
    sid: Option<String>,
    client_secret: Option<String>,
    send_attempt: Option<i64>,
    validated_at: Option<i64>,
}

/// No remote part when every column is NULL; otherwise all but `validated_at` must be set.
fn parse_remote(columns: RemoteColumns) -> Result<Option<RemoteSession>, String> {
    let RemoteColumns {
        server,
        base_url,
        sid,
        client_secret,
        send_attempt,
        validated_at,
    } = columns;
    let (Some(server), Some(base_url), Some(sid), Some(secret), Some(attempt)) =
        (server, base_url, sid, client_secret, send_attempt)
    else {
        return if validated_at.is_none() {
            Ok(None)
        } else {
            Err("remote_validated_at is set without a remote session".to_owned())
        };
    };
    let number =
        |value: i64, what: &str| u64::try_from(value).map_err(|_| format!("{what} is negative"));
    Ok(Some(RemoteSession {
        server: ServerLabel::parse(&server).map_err(|err| format!("remote_server: {err}"))?,
        base_url,
        sid: SessionId::parse(&sid)
            .map_err(|_| "remote_sid is not a valid session id".to_owned())?,
        client_secret: ClientSecret::parse(&secret)
            .map_err(|_| "remote_client_secret is not a valid client secret".to_owned())?,
        send_attempt: SendAttempt::new(number(attempt, "remote_send_attempt")?),
        validated_at: validated_at
            .map(|at| number(at, "remote_validated_at").map(Timestamp::from_millis))
            .transpose()?,
    }))
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

    fn remote_columns() -> RemoteColumns {
        RemoteColumns {
            server: Some("central".into()),
            base_url: Some("https://central.example".into()),
            sid: Some("rsid".into()),
            client_secret: Some("rsecret".into()),
            send_attempt: Some(1),
            validated_at: None,
        }
    }

    #[test]
    fn a_row_without_remote_columns_has_no_remote_part() {
        let none = RemoteColumns {
            server: None,
            base_url: None,
            sid: None,
            client_secret: None,
            send_attempt: None,
            validated_at: None,
        };
        assert_eq!(parse_remote(none), Ok(None));
        let remote = parse_remote(remote_columns()).unwrap().unwrap();
        assert_eq!(remote.sid.as_str(), "rsid");
    }

    #[test]
    fn incomplete_or_invalid_remote_columns_are_refused() {
        let cases = [
            RemoteColumns {
                sid: None,
                validated_at: Some(5),
                ..remote_columns()
            },
            RemoteColumns {
                server: Some("not a label".into()),
                ..remote_columns()
            },
            RemoteColumns {
                client_secret: Some("bad secret!".into()),
                ..remote_columns()
            },
            RemoteColumns {
                send_attempt: Some(-1),
                ..remote_columns()
            },
        ];
        for case in cases {
            assert!(parse_remote(case).is_err());
        }
    }
}
