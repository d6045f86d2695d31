//! Registration with an OpenID token, then the homeserver-mediated bind and the
//! homeserver-signed unbind of an email address.
use std::sync::Arc;

use serde_json::json;

use super::World;

pub async fn a_synapse_user_registers_with_verity_through_an_openid_token(world: Arc<World>) {
    let dave = world.user("dave").await;
    let token = world.identity_token(&dave).await;
    let account = world
        .app
        .client_as(&token)
        .get_account()
        .await
        .expect("GET /account with Verity's token")
        .into_inner();
    assert_eq!(account.user_id, dave.user_id);
    assert!(
        !verity_calls(&world, "GET /_matrix/federation/v1/openid/userinfo").is_empty(),
        "Verity asked Synapse's federation listener whose token it was\n{}",
        world.synapse_lines("openid")
    );
}

pub async fn an_email_validated_with_verity_is_bound_through_synapse_and_found(world: Arc<World>) {
    let erin = world.user("erin").await;
    let token = world.identity_token(&erin).await;
    let address = "erin@example.org";
    assert_eq!(world.lookup(address).await, None);
    let sid = world.validate_email(&token, address, "bindSecret").await;
    world
        .bind_through_synapse(&erin, &token, "bindSecret", &sid)
        .await;
    assert_eq!(world.lookup(address).await, Some(erin.user_id.clone()));
}

/// Synapse signs the unbind with X-Matrix (`destination_is` naming the identity server) and
/// Verity checks it against the keys it fetches from Synapse's `/_matrix/key/v2/server`.
pub async fn an_email_unbound_through_synapse_is_no_longer_found(world: Arc<World>) {
    let frank = world.user("frank").await;
    let token = world.identity_token(&frank).await;
    let address = "frank@example.org";
    let sid = world.validate_email(&token, address, "unbindSecret").await;
    world
        .bind_through_synapse(&frank, &token, "unbindSecret", &sid)
        .await;
    assert_eq!(world.lookup(address).await, Some(frank.user_id.clone()));

    let (status, answer) = frank
        .post(
            "/_matrix/client/v3/account/3pid/unbind",
            &json!({
                "medium": "email",
                "address": address,
                "id_server": world.front.authority(),
            }),
        )
        .await;
    assert_eq!(
        (status, answer.clone()),
        (200, json!({"id_server_unbind_result": "success"})),
        "unbind through Synapse: {answer}\n{}",
        world.synapse_lines("unbind")
    );
    assert_eq!(world.lookup(address).await, None);
    assert!(
        !verity_calls(&world, "GET /_matrix/key/v2/server").is_empty(),
        "Verity fetched Synapse's keys to check the signature\n{}",
        world.synapse_lines("/_matrix/key")
    );
}

/// Synapse's access log lines for `request` (`"<METHOD> <path>"`) made by Verity.
fn verity_calls(world: &World, request: &str) -> Vec<String> {
    world
        .synapse
        .log_lines(request)
        .into_iter()
        .filter(|line| line.contains("\"Verity/"))
        .collect()
}
