//! `docs/errors.md` cannot drift from the code: every `(errcode, status)` pair the one error
//! mapping can produce is built here from every variant of every use-case error (the matches below
//! have no wildcard, so a new variant does not compile until it is listed), every constructor of
//! `ApiError`, every routing and parsing error and the body guard; the table must list exactly
//! those pairs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use poem::IntoResponse;
use poem::http::StatusCode;
use verity_application::ports::driven::{BackendError, StoreError};
use verity_application::ports::driving::{
    AssociationError, AuthError, DirectoryError, InviteError, LookupError, RegistrationError,
    RemoteFailure, ValidationError,
};
use verity_domain::{
    InvalidMatrixId, LookupAlgorithm, MalformedPlainEntry, Medium, RefusalReason, ServerLabel,
    SigningError, UserId,
};

use super::{ApiError, logout_error, new_code_coming, v1_submission_failure};
use crate::error::{ErrCode, escaped_error_response};
use crate::test_support::{client, mocked_deps};

type Pair = (String, u16);

fn label() -> ServerLabel {
    ServerLabel::parse("root").unwrap()
}

fn user() -> UserId {
    UserId::parse("@alice:example.org").unwrap()
}

fn store() -> StoreError {
    StoreError::Corrupt("test".into())
}

fn backend() -> BackendError {
    BackendError::Corrupt("test".into())
}

fn remote_failures() -> Vec<RemoteFailure> {
    let all = vec![
        RemoteFailure::Unavailable(label()),
        RemoteFailure::Refused {
            server: label(),
            errcode: "M_FORBIDDEN".into(),
            error: "no".into(),
        },
        RemoteFailure::Invalid(label()),
    ];
    for failure in &all {
        match failure {
            RemoteFailure::Unavailable(_)
            | RemoteFailure::Refused { .. }
            | RemoteFailure::Invalid(_) => {}
        }
    }
    all
}

fn validation_errors() -> Vec<ValidationError> {
    let mut all = vec![
        ValidationError::Refused(RefusalReason::Disabled),
        ValidationError::UnsupportedMedium(Medium::Msisdn),
        ValidationError::NoValidSession,
        ValidationError::SessionExpired,
        ValidationError::TokenIncorrect,
        ValidationError::TooManyAttempts,
        ValidationError::NotValidated,
        ValidationError::Internal(store()),
    ];
    for medium in [Medium::Email, Medium::Msisdn] {
        for rejected in [false, true] {
            all.push(ValidationError::SendFailed {
                medium: medium.clone(),
                rejected,
            });
        }
    }
    all.extend(remote_failures().into_iter().map(ValidationError::Remote));
    for error in &all {
        match error {
            ValidationError::Refused(_)
            | ValidationError::UnsupportedMedium(_)
            | ValidationError::NoValidSession
            | ValidationError::SessionExpired
            | ValidationError::TokenIncorrect
            | ValidationError::TooManyAttempts
            | ValidationError::NotValidated
            | ValidationError::SendFailed { .. }
            | ValidationError::Remote(_)
            | ValidationError::Internal(_) => {}
        }
    }
    all
}

fn association_errors() -> Vec<AssociationError> {
    let mut all = vec![
        AssociationError::NoValidSession,
        AssociationError::SessionExpired,
        AssociationError::NotValidated,
        AssociationError::RemoteValidationRequired(label()),
        AssociationError::RemoteNotValidated(label()),
        AssociationError::NotTheRequester(user()),
        AssociationError::ThreePidMismatch,
        AssociationError::HomeserverSignatureUnsupported,
        AssociationError::SignatureRejected("bad".into()),
        AssociationError::HomeserverUnavailable,
        AssociationError::ProofRequired,
        AssociationError::UnbindDisabled,
        AssociationError::Signing(SigningError::NotAnObject),
        AssociationError::Internal(store()),
        AssociationError::Backend(backend()),
    ];
    all.extend(remote_failures().into_iter().map(AssociationError::Remote));
    for error in &all {
        match error {
            AssociationError::NoValidSession
            | AssociationError::SessionExpired
            | AssociationError::NotValidated
            | AssociationError::RemoteValidationRequired(_)
            | AssociationError::RemoteNotValidated(_)
            | AssociationError::Remote(_)
            | AssociationError::NotTheRequester(_)
            | AssociationError::ThreePidMismatch
            | AssociationError::HomeserverSignatureUnsupported
            | AssociationError::SignatureRejected(_)
            | AssociationError::HomeserverUnavailable
            | AssociationError::ProofRequired
            | AssociationError::UnbindDisabled
            | AssociationError::Signing(_)
            | AssociationError::Internal(_)
            | AssociationError::Backend(_) => {}
        }
    }
    all
}

fn lookup_errors() -> Vec<LookupError> {
    let all = vec![
        LookupError::TooLarge { max: 1 },
        LookupError::UnsupportedAlgorithm("md5".into()),
        LookupError::InvalidPepper {
            algorithm: LookupAlgorithm::Sha256,
            lookup_pepper: "pepper".into(),
        },
        LookupError::MalformedEntry(MalformedPlainEntry),
        LookupError::Signing(SigningError::NotAnObject),
        LookupError::Internal(store()),
        LookupError::Backend(backend()),
        LookupError::NotReady,
    ];
    for error in &all {
        match error {
            LookupError::TooLarge { .. }
            | LookupError::UnsupportedAlgorithm(_)
            | LookupError::InvalidPepper { .. }
            | LookupError::MalformedEntry(_)
            | LookupError::Signing(_)
            | LookupError::Internal(_)
            | LookupError::Backend(_)
            | LookupError::NotReady => {}
        }
    }
    all
}

fn invite_errors() -> Vec<InviteError> {
    let all = vec![
        InviteError::UnsupportedMedium(Medium::Msisdn),
        InviteError::NotTheSender,
        InviteError::NotAllowed,
        InviteError::AlreadyBound(user()),
        InviteError::SendFailed { rejected: true },
        InviteError::SendFailed { rejected: false },
        InviteError::UnknownToken,
        InviteError::InvalidPrivateKey,
        InviteError::WrongPrivateKey,
        InviteError::Signing(SigningError::NotAnObject),
        InviteError::Internal(store()),
        InviteError::Backend(backend()),
    ];
    for error in &all {
        match error {
            InviteError::UnsupportedMedium(_)
            | InviteError::NotTheSender
            | InviteError::NotAllowed
            | InviteError::AlreadyBound(_)
            | InviteError::SendFailed { .. }
            | InviteError::UnknownToken
            | InviteError::InvalidPrivateKey
            | InviteError::WrongPrivateKey
            | InviteError::Signing(_)
            | InviteError::Internal(_)
            | InviteError::Backend(_) => {}
        }
    }
    all
}

fn auth_errors() -> Vec<AuthError> {
    let all = vec![
        AuthError::Unauthorized,
        AuthError::TermsNotSigned,
        AuthError::Internal(store()),
    ];
    for error in &all {
        match error {
            AuthError::Unauthorized | AuthError::TermsNotSigned | AuthError::Internal(_) => {}
        }
    }
    all
}

fn registration_errors() -> Vec<RegistrationError> {
    let all = vec![
        RegistrationError::InvalidServerName(InvalidMatrixId::ServerName),
        RegistrationError::InvalidServerName(InvalidMatrixId::NumericHost),
        RegistrationError::DestinationBlocked,
        RegistrationError::Unauthorized("no"),
        RegistrationError::HomeserverUnavailable,
        RegistrationError::Internal(store()),
    ];
    for error in &all {
        match error {
            RegistrationError::InvalidServerName(_)
            | RegistrationError::DestinationBlocked
            | RegistrationError::Unauthorized(_)
            | RegistrationError::HomeserverUnavailable
            | RegistrationError::Internal(_) => {}
        }
    }
    all
}

fn login_errors() -> Vec<verity_application::ports::driving::LoginError> {
    use verity_application::ports::driving::{LimitExceeded, LoginError};
    let all = vec![
        LoginError::Limited(LimitExceeded(verity_domain::RetryAfter::new(
            std::time::Duration::from_secs(1),
        ))),
        LoginError::Unavailable(backend()),
    ];
    for error in &all {
        match error {
            LoginError::Limited(_) | LoginError::Unavailable(_) => {}
        }
    }
    all
}

fn directory_errors() -> Vec<DirectoryError> {
    let all = vec![
        DirectoryError::MissingToken,
        DirectoryError::UnknownToken,
        DirectoryError::GuestAccessForbidden,
        DirectoryError::HomeserverUnavailable,
        DirectoryError::Unavailable,
        DirectoryError::Limited(verity_application::ports::driving::LimitExceeded(
            verity_domain::RetryAfter::new(std::time::Duration::from_secs(1)),
        )),
    ];
    for error in &all {
        match error {
            DirectoryError::MissingToken
            | DirectoryError::UnknownToken
            | DirectoryError::GuestAccessForbidden
            | DirectoryError::HomeserverUnavailable
            | DirectoryError::Unavailable
            | DirectoryError::Limited(_) => {}
        }
    }
    all
}

fn gate_errors() -> Vec<ApiError> {
    use verity_application::ports::driven::HomeserverAsUserError;
    use verity_application::ports::driving::{RegistrationGateError, RoomInviteGateError};
    let registration = vec![
        RegistrationGateError::Refused(Medium::Email),
        RegistrationGateError::Store(store()),
        RegistrationGateError::Homeserver(HomeserverAsUserError::Unsupported),
    ];
    for error in &registration {
        match error {
            RegistrationGateError::Refused(_)
            | RegistrationGateError::Store(_)
            | RegistrationGateError::Homeserver(_) => {}
        }
    }
    let invites = vec![
        RoomInviteGateError::Refused,
        RoomInviteGateError::Profiles(backend()),
        RoomInviteGateError::Homeserver(HomeserverAsUserError::TokenRejected),
        RoomInviteGateError::Homeserver(HomeserverAsUserError::InvalidResponse("x".into())),
    ];
    for error in &invites {
        match error {
            RoomInviteGateError::Refused
            | RoomInviteGateError::Profiles(_)
            | RoomInviteGateError::Homeserver(_) => {}
        }
    }
    registration
        .into_iter()
        .map(ApiError::from)
        .chain(invites.into_iter().map(ApiError::from))
        .collect()
}

/// Every `ApiError` the handlers can return: the use-case errors and the direct constructors.
fn api_errors() -> Vec<ApiError> {
    let mut all: Vec<ApiError> = Vec::new();
    all.extend(validation_errors().into_iter().map(ApiError::from));
    all.extend(association_errors().into_iter().map(ApiError::from));
    all.extend(lookup_errors().into_iter().map(ApiError::from));
    all.extend(invite_errors().into_iter().map(ApiError::from));
    all.extend(auth_errors().into_iter().map(ApiError::from));
    all.extend(auth_errors().into_iter().map(logout_error));
    all.extend(registration_errors().into_iter().map(ApiError::from));
    all.extend(remote_failures().iter().map(ApiError::remote));
    all.extend(directory_errors().into_iter().map(ApiError::from));
    all.extend(gate_errors());
    all.push(ApiError::from(
        verity_domain::SearchTerm::parse("a\0b").unwrap_err(),
    ));
    all.push(ApiError::from(
        verity_domain::EmailAddress::parse("not an address").unwrap_err(),
    ));
    all.push(ApiError::from(
        verity_domain::Msisdn::parse("not digits").unwrap_err(),
    ));
    all.push(ApiError::from(
        verity_domain::ClientSecret::parse("").unwrap_err(),
    ));
    all.push(ApiError::from(
        verity_application::ports::driving::LimitExceeded(verity_domain::RetryAfter::new(
            std::time::Duration::from_millis(1500),
        )),
    ));
    all.extend(login_errors().into_iter().map(ApiError::from));
    all.push(ApiError::invalid_param("bad"));
    all.push(ApiError::forbidden_with("no"));
    all.push(ApiError::not_found("none"));
    all.push(ApiError::internal(&store()));
    all
}

/// Every error that escapes the handlers (routing, request parsing).
fn escaped_errors() -> Vec<poem::Error> {
    use poem::error::{MethodNotAllowedError, NotFoundError};
    use poem_openapi::error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError,
        ParseRequestPayloadError,
    };
    vec![
        NotFoundError.into(),
        MethodNotAllowedError.into(),
        ParseRequestPayloadError {
            reason: "missing field".into(),
        }
        .into(),
        ContentTypeError::ExpectContentType.into(),
        AuthorizationError.into(),
        ParseParamError {
            name: "sid",
            reason: "failed to parse \"string\": Type \"string\" expects an input value.".into(),
        }
        .into(),
        ParseParamError {
            name: "sid",
            reason: "not a number".into(),
        }
        .into(),
        ParsePathError {
            name: "key_id",
            reason: "bad".into(),
        }
        .into(),
        poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR),
    ]
}

async fn pair_of(response: poem::Response) -> Pair {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.into_body().into_json().await.unwrap();
    (body["errcode"].as_str().unwrap().to_owned(), status)
}

/// What the body guard answers before any handler runs, through the real application.
async fn body_guard_pairs() -> Vec<Pair> {
    let app = client(&mocked_deps(), true);
    let path = "/_matrix/identity/v2/account/register";
    let mut pairs = Vec::new();
    for body in ["not json".to_owned(), "[1]".to_owned(), "x".repeat(70_000)] {
        let response = app
            .post(path)
            .content_type("application/json")
            .body(body)
            .send()
            .await;
        pairs.push(pair_of(response.0).await);
    }
    pairs
}

/// Every pair the mapping produces; `M_MESSAGE_FOR_CLIENT` and v1 refused codes ride a 200
/// `success: false` answer.
async fn produced() -> BTreeSet<Pair> {
    let mut pairs = BTreeSet::new();
    for error in api_errors() {
        pairs.insert(pair_of(error.into_response()).await);
    }
    for error in escaped_errors() {
        pairs.insert(pair_of(escaped_error_response(error)).await);
    }
    pairs.extend(body_guard_pairs().await);
    pairs.insert((new_code_coming("example.org").errcode, 200));
    // v1 POST submitToken answers a refused code with 200 `success: false`, as sydent.
    for error in validation_errors() {
        if let Ok(body) = v1_submission_failure(error) {
            pairs.insert((body.errcode, 200));
        }
    }
    pairs
}

/// The `(errcode, status)` rows of the table in `docs/errors.md`.
fn documented() -> BTreeSet<Pair> {
    let text = include_str!("../../../docs/errors.md");
    text.lines()
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim).skip(1);
            let code = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
            let status = cells.next()?.parse().ok()?;
            code.starts_with("M_").then(|| (code.to_owned(), status))
        })
        .collect()
}

/// Every errcode Verity has (the match keeps the list whole).
fn every_code() -> Vec<ErrCode> {
    use ErrCode as C;
    let all = vec![
        C::Unauthorized,
        C::UnknownToken,
        C::MissingToken,
        C::GuestAccessForbidden,
        C::TermsNotSigned,
        C::Forbidden,
        C::InvalidEmail,
        C::InvalidAddress,
        C::EmailSendError,
        C::SendError,
        C::NoValidSession,
        C::NotFound,
        C::SessionExpired,
        C::SessionNotValidated,
        C::TokenIncorrect,
        C::Unrecognized,
        C::NotJson,
        C::BadJson,
        C::MissingParams,
        C::InvalidParam,
        C::TooLarge,
        C::InvalidPepper,
        C::RemoteIsError,
        C::MessageForClient,
        C::ThreepidInUse,
        C::ThreepidDenied,
        C::LimitExceeded,
        C::Unknown,
    ];
    for code in &all {
        match code {
            C::Unauthorized
            | C::UnknownToken
            | C::MissingToken
            | C::GuestAccessForbidden
            | C::TermsNotSigned
            | C::Forbidden
            | C::InvalidEmail
            | C::InvalidAddress
            | C::EmailSendError
            | C::SendError
            | C::NoValidSession
            | C::NotFound
            | C::SessionExpired
            | C::SessionNotValidated
            | C::TokenIncorrect
            | C::Unrecognized
            | C::NotJson
            | C::BadJson
            | C::MissingParams
            | C::InvalidParam
            | C::TooLarge
            | C::InvalidPepper
            | C::RemoteIsError
            | C::MessageForClient
            | C::ThreepidInUse
            | C::ThreepidDenied
            | C::LimitExceeded
            | C::Unknown => {}
        }
    }
    all
}

#[tokio::test]
async fn the_errors_table_lists_exactly_the_errcodes_and_statuses_the_mapping_produces() {
    let produced = produced().await;
    let documented = documented();
    let missing: Vec<_> = produced.difference(&documented).collect();
    let invented: Vec<_> = documented.difference(&produced).collect();
    assert!(
        missing.is_empty() && invented.is_empty(),
        "docs/errors.md lacks {missing:?} and lists {invented:?}, which the code never answers"
    );
}

#[tokio::test]
async fn every_errcode_verity_defines_is_one_the_mapping_produces() {
    let produced: BTreeSet<String> = produced().await.into_iter().map(|(code, _)| code).collect();
    let unused: Vec<&str> = every_code()
        .into_iter()
        .map(ErrCode::as_str)
        .filter(|code| !produced.contains(*code))
        .collect();
    assert!(unused.is_empty(), "never produced: {unused:?}");
}

#[test]
fn the_errors_table_is_read_row_by_row() {
    let rows = documented();
    assert!(
        rows.contains(&("M_INVALID_PEPPER".to_owned(), 400)),
        "{rows:?}"
    );
    assert!(rows.contains(&("M_TOO_LARGE".to_owned(), 413)), "{rows:?}");
}
