//! A 3PID room invite: Synapse asks Verity to store the invite (Verity mails it), and when the
//! invitee binds the address Verity posts `3pid/onbind` to Synapse, which turns the invite into
//! a Matrix one the invitee accepts.
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::World;
use super::matrix::{MatrixUser, encode};

const ADDRESS: &str = "grace@example.org";

pub async fn an_invited_email_joins_the_room_once_its_owner_binds_it(world: Arc<World>) {
    let alice = world.user("alice").await;
    let alice_token = world.identity_token(&alice).await;
    let room = alice.create_room().await;
    let (status, answer) = alice
        .post(
            &format!("/_matrix/client/v3/rooms/{}/invite", encode(&room)),
            &json!({
                "id_server": world.front.authority(),
                "id_access_token": alice_token,
                "medium": "email",
                "address": ADDRESS,
            }),
        )
        .await;
    assert_eq!(
        status,
        200,
        "the 3PID invite through Synapse: {answer}\n{}",
        world.synapse_lines("identity server")
    );
    let invite = world.mail_to(ADDRESS).await;
    let text = invite.parse().text.unwrap_or_default();
    assert!(
        text.contains("alice"),
        "the invite names its sender: {text}"
    );

    let grace = world.user("grace").await;
    let grace_token = world.identity_token(&grace).await;
    let sid = world
        .validate_email(&grace_token, ADDRESS, "inviteSecret")
        .await;
    world
        .bind_through_synapse(&grace, &grace_token, "inviteSecret", &sid)
        .await;

    wait_for_invite(&world, &grace, &room).await;
    let (status, joined) = grace
        .post(
            &format!("/_matrix/client/v3/join/{}", encode(&room)),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "grace joins: {joined}");
    let (status, member) = alice
        .get(&format!(
            "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
            encode(&room),
            encode(&grace.user_id)
        ))
        .await;
    assert_eq!(
        (status, member["membership"].clone()),
        (200, json!("join")),
        "{member}"
    );
}

/// Syncs as the invitee (as Element does: an initial `/sync`, then long polls from its
/// `next_batch`) until the room is among its invites, 30 s at most: Verity delivers `onbind`
/// after answering the bind.
async fn wait_for_invite(world: &World, user: &MatrixUser, room: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut path = "/_matrix/client/v3/sync?timeout=0".to_owned();
    loop {
        let (status, sync) = user.get(&path).await;
        assert_eq!(status, 200, "{sync}");
        if invited(&sync, room) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} was never invited to {room} (Verity's onbind)\n{}",
            user.user_id,
            world.synapse_lines("onbind")
        );
        let since = sync["next_batch"].as_str().expect("next_batch");
        path = format!(
            "/_matrix/client/v3/sync?timeout=5000&since={}",
            encode(since)
        );
    }
}

fn invited(sync: &Value, room: &str) -> bool {
    sync["rooms"]["invite"]
        .as_object()
        .is_some_and(|rooms| rooms.contains_key(room))
}
