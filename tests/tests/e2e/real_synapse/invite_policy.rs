//! The invite policy in front of a real Synapse: the client's `rooms/{roomId}/invite` reaches
//! Verity (as the reverse proxy routes it), Verity asks Synapse who the token is, reads the
//! sender's roles from the `memory` store, and passes a permitted 3PID invite on to Synapse,
//! which asks Verity to store and mail it; a sender without the role gets ma1sd's 403 and
//! nothing is mailed, while a plain Matrix invite goes through whoever sends it.
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::World;
use super::matrix::{MatrixUser, encode, send};

/// Staff in the `memory` store (world.rs): may invite by 3PID.
pub const STAFF: &str = "ivan";
const ADDRESS: &str = "heidi@example.org";
const REFUSED_ADDRESS: &str = "judy@example.org";

async fn invite_through_verity(
    world: &World,
    user: &MatrixUser,
    room: &str,
    body: &Value,
) -> (u16, Value) {
    let path = format!("/_matrix/client/v3/rooms/{}/invite", encode(room));
    send(
        world
            .http
            .post(world.url(&path))
            .bearer_auth(user.access_token())
            .json(body),
    )
    .await
}

pub async fn staff_invite_by_email_through_verity_and_a_user_without_the_role_cannot(
    world: Arc<World>,
) {
    let ivan = world.user(STAFF).await;
    let ivan_token = world.identity_token(&ivan).await;
    let room = ivan.create_room().await;
    let by_email = |address: &str, token: &str| {
        json!({
            "id_server": world.front.authority(),
            "id_access_token": token,
            "medium": "email",
            "address": address,
        })
    };
    let (status, answer) =
        invite_through_verity(&world, &ivan, &room, &by_email(ADDRESS, &ivan_token)).await;
    assert_eq!(
        status,
        200,
        "staff's 3PID invite through Verity and Synapse: {answer}\n{}",
        world.synapse_lines("identity server")
    );
    let mail = world.mail_to(ADDRESS).await;
    let text = mail.parse().text.unwrap_or_default();
    assert!(text.contains(STAFF), "the invite names its sender: {text}");

    let mallory = world.user("mallory").await;
    let mallory_token = world.identity_token(&mallory).await;
    let own_room = mallory.create_room().await;
    let (status, answer) = invite_through_verity(
        &world,
        &mallory,
        &own_room,
        &by_email(REFUSED_ADDRESS, &mallory_token),
    )
    .await;
    assert_eq!(
        (status, answer),
        (
            403,
            json!({"errcode": "M_FORBIDDEN", "error": "Your account is not allowed to invite that address"})
        )
    );
    assert!(
        world
            .smtp
            .wait_for_mail(Duration::from_secs(2))
            .await
            .is_none_or(|mail| !mail.to.iter().any(|to| to == REFUSED_ADDRESS)),
        "nothing is mailed for a refused invite"
    );

    // Straight to Synapse (not through Verity's route), the same invite is refused by Verity's
    // store-invite: Synapse answers with an error and nothing is mailed.
    let (status, answer) = mallory
        .post(
            &format!("/_matrix/client/v3/rooms/{}/invite", encode(&own_room)),
            &by_email(REFUSED_ADDRESS, &mallory_token),
        )
        .await;
    assert_ne!(status, 200, "Synapse could not store the invite: {answer}");
    assert!(
        world
            .smtp
            .wait_for_mail(Duration::from_secs(2))
            .await
            .is_none_or(|mail| !mail.to.iter().any(|to| to == REFUSED_ADDRESS)),
        "nothing is mailed for an invite store-invite refused"
    );

    // A Matrix user invite needs no role: Synapse gets it and ivan is invited.
    let (status, answer) = invite_through_verity(
        &world,
        &mallory,
        &own_room,
        &json!({"user_id": ivan.user_id}),
    )
    .await;
    assert_eq!(status, 200, "mallory invites ivan: {answer}");
    let (status, member) = mallory
        .get(&format!(
            "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
            encode(&own_room),
            encode(&ivan.user_id)
        ))
        .await;
    assert_eq!(
        (status, member["membership"].as_str()),
        (200, Some("invite")),
        "{member}"
    );
}
