//! Outbound calls a request causes: server names refused before connecting anywhere, the caps on
//! calls in flight, and homeservers' signing keys fetched once.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use verity_tests::{Backend, HOMESERVER, Peers, TestApp, spawn_app_with};

/// A TCP listener on `127.0.0.1:0` that counts the connections made to it and closes each one.
struct ConnectionCounter {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl ConnectionCounter {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Self { port, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn register(app: &TestApp, server_name: &str) -> (u16, Value) {
    let resp = app
        .http
        .post(app.url("/_matrix/identity/v2/account/register"))
        .json(&json!({
            "access_token": "openid-token",
            "token_type": "Bearer",
            "matrix_server_name": server_name,
            "expires_in": 3600,
        }))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn a_numeric_server_name_that_is_not_a_dotted_quad_is_refused_without_connecting() {
    let listener = ConnectionCounter::start().await;
    // Loopback is allowed here, so only the name check stands between the request and the port.
    let app = spawn_app_with(
        Backend::Sqlite,
        "federation: {allowedNetworks: ['127.0.0.0/8']}",
    )
    .await;
    let port = listener.port;
    for host in ["127.1", "0x7f.1", "2130706433", "0177.0.0.1", "127.0.1"] {
        let (status, body) = register(&app, &format!("{host}:{port}")).await;
        assert_eq!(status, 400, "{host}: {body}");
        assert_eq!(body["errcode"], "M_INVALID_PARAM", "{host}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains("IPv4"), "{host}: {error}");
    }
    assert_eq!(listener.accepted(), 0, "no connection for a refused name");

    // The same address written as a dotted quad is connected to (and is no homeserver): 502.
    let (status, body) = register(&app, &format!("127.0.0.1:{port}")).await;
    assert_eq!(status, 502, "{body}");
    assert!(listener.accepted() >= 1);
}

#[tokio::test]
async fn a_register_over_the_per_server_cap_fails_at_once_while_the_others_wait_for_their_homeserver()
 {
    let peers = Peers::start().await;
    peers
        .homeserver
        .add_user("openid-token", "@alice:example.org");
    let app = spawn_app_with(
        Backend::Sqlite,
        &format!(
            "{}federation: {{maxConcurrentRequestsPerServer: 2}}\n",
            peers.yaml()
        ),
    )
    .await;
    peers.homeserver.hold_userinfo();
    let held: Vec<_> = (0..2)
        .map(|_| {
            let http = app.http.clone();
            let url = app.url("/_matrix/identity/v2/account/register");
            tokio::spawn(async move {
                http.post(url)
                    .json(
                        &json!({"access_token": "openid-token", "token_type": "Bearer",
                        "matrix_server_name": HOMESERVER, "expires_in": 3600}),
                    )
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    peers
        .homeserver
        .wait_for_held_userinfo(2, Duration::from_secs(10))
        .await;

    let (status, body) = register(&app, HOMESERVER).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["errcode"], "M_UNKNOWN");

    peers.homeserver.release_userinfo();
    for call in held {
        assert_eq!(call.await.unwrap(), 200);
    }
    assert_eq!(
        peers.homeserver.userinfo_calls(),
        2,
        "the refused request never reached the homeserver"
    );
    let (status, body) = register(&app, HOMESERVER).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn signed_unbinds_fetch_the_homeservers_keys_once() {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &peers.yaml()).await;
    peers.homeserver.sign_as(HOMESERVER);
    let path = "/_matrix/identity/v2/3pid/unbind";
    for user in ["dave", "erin", "frank"] {
        let body = json!({"mxid": format!("@{user}:{HOMESERVER}"),
            "threepid": {"medium": "email", "address": format!("{user}@example.org")}});
        let header = peers
            .homeserver
            .sign_request("POST", path, "localhost", Some(&body));
        let resp = app
            .http
            .post(app.url(path))
            .header("Authorization", header)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        // Nothing was bound: the signature is checked, then there is nothing to remove.
        assert_eq!(status, 200, "{}", resp.text().await.unwrap());
    }
    assert_eq!(peers.homeserver.key_fetches(), 1);
}
