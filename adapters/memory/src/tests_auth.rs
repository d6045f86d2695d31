//! Logins and profiles from the list.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{
    AccountName, PasswordVerdict, PasswordVerifier, ProfileSource,
};
use verity_domain::{EmailAddress, Password, Profile, ThreePid, UserId};

use crate::{MemoryBackend, MemoryIdentity, MemorySettings};

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn email(address: &str) -> ThreePid {
    ThreePid::Email(EmailAddress::parse(address).unwrap())
}

fn password(text: &str) -> Password {
    Password::parse(text).unwrap()
}

/// alice with a password, a name, a 3PID and roles; bob listed without a password.
fn listed() -> MemoryBackend {
    let alice = MemoryIdentity {
        password: Some(password("correct horse")),
        display_name: Some("Alice Liddell".into()),
        roles: vec!["staff".into(), "admins".into()],
        ..MemoryIdentity::new(user("@alice:example.org"), vec![email("alice@example.org")])
    };
    let bob = MemoryIdentity::new(user("@bob:example.org"), Vec::new());
    MemoryBackend::new(&MemorySettings {
        hash_enabled: true,
        identities: vec![alice, bob],
    })
}

#[tokio::test]
async fn a_listed_user_logs_in_with_their_password_and_gets_their_profile() {
    let verdict = listed()
        .verify_password(&user("@Alice:example.org"), &password("correct horse"))
        .await
        .unwrap();
    let mut profile = Profile::named("Alice Liddell");
    profile.add_threepid(email("alice@example.org"));
    profile.add_role("staff");
    profile.add_role("admins");
    assert_eq!(
        verdict,
        PasswordVerdict::Accepted {
            account: AccountName::UserId(user("@alice:example.org")),
            profile,
        }
    );
}

#[tokio::test]
async fn another_password_is_refused_unlike_mxisd_which_took_any() {
    let memory = listed();
    for wrong in ["correct hors", "Correct horse", "correct horse ", "x"] {
        assert_eq!(
            memory
                .verify_password(&user("@alice:example.org"), &password(wrong))
                .await
                .unwrap(),
            PasswordVerdict::Refused,
            "{wrong}"
        );
    }
}

#[tokio::test]
async fn a_user_listed_without_a_password_cannot_log_in_and_an_unlisted_one_is_unknown() {
    let memory = listed();
    assert_eq!(
        memory
            .verify_password(&user("@bob:example.org"), &password("anything"))
            .await
            .unwrap(),
        PasswordVerdict::Refused
    );
    assert_eq!(
        memory
            .verify_password(&user("@carol:example.org"), &password("anything"))
            .await
            .unwrap(),
        PasswordVerdict::UnknownUser
    );
}

#[tokio::test]
async fn profiles_are_answered_for_listed_users_only() {
    let memory = listed();
    let alice = memory.profile(&user("@alice:example.org")).await.unwrap();
    assert_eq!(
        alice.map(|p| p.roles),
        Some(vec!["staff".to_owned(), "admins".to_owned()])
    );
    assert_eq!(
        memory.profile(&user("@bob:example.org")).await.unwrap(),
        Some(Profile::default())
    );
    assert_eq!(
        memory.profile(&user("@carol:example.org")).await.unwrap(),
        None
    );
}
