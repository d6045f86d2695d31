//! v2 accounts and the account cache (`accountConfig.cacheLifetime`): a logout takes effect at
//! once on the instance that served it, and on every instance at once without the cache.
use verity_tests::client::types::OpenIdCredentials;
use verity_tests::{Backend, HOMESERVER, Peers, TestApp, spawn_app_with};

fn status<T, E>(answer: Result<T, verity_tests::client::Error<E>>) -> u16 {
    match answer {
        Ok(_) => 200,
        Err(error) => error.status().map_or(0, |s| s.as_u16()),
    }
}

#[tokio::test]
async fn a_token_used_just_before_logout_is_refused_right_after_it_on_the_same_instance() {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &peers.yaml()).await;
    let alice = peers.register(&app, "alice").await;
    for _ in 0..3 {
        assert_eq!(
            status(alice.get_account().await),
            200,
            "served from the cache"
        );
    }
    alice.logout().await.expect("logout");
    assert_eq!(status(alice.get_account().await), 401);
    assert_eq!(status(alice.logout().await), 401, "already logged out");
}

#[tokio::test]
async fn without_the_cache_a_logout_on_one_instance_is_refused_at_once_on_another() {
    let peers = Peers::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let yaml = format!("{}accountConfig: {{cacheLifetime: 0}}\n", peers.yaml());
    let first = spawn_app_with(Backend::SqliteAt(db.clone()), &yaml).await;
    let second = spawn_app_with(Backend::SqliteAt(db), &yaml).await;
    let token = register(&peers, &first, "alice").await;
    let on_second = second.client_as(&token);
    assert_eq!(status(on_second.get_account().await), 200);
    first.client_as(&token).logout().await.expect("logout");
    assert_eq!(status(on_second.get_account().await), 401);
}

/// Registers `@<localpart>:example.org` on `app` and returns the access token it issued.
async fn register(peers: &Peers, app: &TestApp, localpart: &str) -> String {
    let openid = format!("openid-{localpart}");
    peers
        .homeserver
        .add_user(&openid, &format!("@{localpart}:{HOMESERVER}"));
    app.client
        .register_account(&OpenIdCredentials {
            access_token: openid,
            token_type: Some("Bearer".into()),
            matrix_server_name: HOMESERVER.into(),
            expires_in: Some(3600),
        })
        .await
        .expect("register")
        .into_inner()
        .token
}
