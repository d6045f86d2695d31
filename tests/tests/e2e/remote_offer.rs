//! The offered remote step taken after the homeserver already bound the session here (the user
//! returned to the client first): Verity recorded whom the session was bound to, and binds the
//! same Matrix ID on central as soon as central confirms the address.
use pretty_assertions::assert_eq;
use verity_tests::client::types;

use crate::remote_sessions::{
    SECRET, bind, central_host, check, follow_mail, get, link_to, owner, publish_on_central,
    request, world,
};

#[tokio::test]
async fn an_offer_taken_after_the_bind_here_binds_the_same_user_on_central() {
    let w = world("").await;
    let sid = request(&w.local, "dave@example.org")
        .await
        .expect("a session");
    let done = follow_mail(&w.local, &w.peers, "dave@example.org").await;
    assert!(done.html.contains("is verified"), "{}", done.html);

    // Back in the client first: the homeserver binds, here only.
    bind(&w.local, &sid, "@dave:example.org")
        .await
        .expect("bound here");
    assert_eq!(owner(&w.central, "email", "dave@example.org").await, None);

    // Then the offer from the success page, taken to the end.
    let explained = get(&w.local, &link_to(&done.html, "/remote/api/v1/")).await;
    assert_eq!(explained.status, 200, "{}", explained.html);
    let checked = publish_on_central(&w, &sid, "dave@example.org").await;
    let published = format!("It is now published on <code>{}</code>", central_host(&w));
    assert!(checked.html.contains(&published), "{}", checked.html);
    for app in [&w.local, &w.central] {
        assert_eq!(
            owner(app, "email", "dave@example.org").await.as_deref(),
            Some("@dave:example.org")
        );
    }

    // Checking again changes nothing and still says so.
    let again = get(&w.local, &check(&sid)).await;
    assert!(again.html.contains(&published), "{}", again.html);
    assert_eq!(
        owner(&w.central, "email", "dave@example.org")
            .await
            .as_deref(),
        Some("@dave:example.org")
    );
}

#[tokio::test]
async fn an_offer_taken_after_the_address_was_unbound_here_publishes_nothing_on_central() {
    let w = world("").await;
    let sid = request(&w.local, "erin@example.org")
        .await
        .expect("a session");
    let done = follow_mail(&w.local, &w.peers, "erin@example.org").await;
    bind(&w.local, &sid, "@erin:example.org")
        .await
        .expect("bound here");

    // The user removes the address again (by session, as a client may), then takes the offer.
    w.local
        .client
        .unbind_v1(&types::UnbindRequest {
            mxid: "@erin:example.org".into(),
            threepid: types::ThreePidBody {
                medium: "email".into(),
                address: "erin@example.org".into(),
            },
            sid: Some(sid.clone()),
            client_secret: Some(SECRET.into()),
        })
        .await
        .expect("unbound here");
    let explained = get(&w.local, &link_to(&done.html, "/remote/api/v1/")).await;
    assert_eq!(explained.status, 200, "{}", explained.html);
    let checked = publish_on_central(&w, &sid, "erin@example.org").await;
    assert!(
        !checked.html.contains("It is now published"),
        "{}",
        checked.html
    );
    for app in [&w.local, &w.central] {
        assert_eq!(owner(app, "email", "erin@example.org").await, None);
    }
}
