//! The operator's blocklists applied to a `store-invite` request, before anything is stored or
//! sent (Sydent checked its keywords only after storing the invite).
use verity_domain::{InviteBlocklist, InviteRefusal, Medium, WEB_CLIENT_LOCATION};

use crate::ports::driving::StoreInvite;

/// Every string of the request with its wire name, as Sydent checks all of its arguments.
fn text_fields<'a>(request: &'a StoreInvite, medium: &'a Medium) -> Vec<(&'static str, &'a str)> {
    let d = &request.details;
    let mut fields = vec![
        ("medium", medium.as_str()),
        ("address", request.threepid.address()),
        ("room_id", request.room_id.as_str()),
        ("sender", request.sender.as_str()),
    ];
    for (name, value) in [
        ("room_alias", &d.room_alias),
        ("room_avatar_url", &d.room_avatar_url),
        ("room_join_rules", &d.room_join_rules),
        ("room_name", &d.room_name),
        ("room_type", &d.room_type),
        ("sender_display_name", &d.sender_display_name),
        ("sender_avatar_url", &d.sender_avatar_url),
        ("guest_user_id", &d.guest_user_id),
        ("guest_access_token", &d.guest_access_token),
        (WEB_CLIENT_LOCATION, &d.web_client_location),
    ] {
        if let Some(value) = value {
            fields.push((name, value.as_str()));
        }
    }
    fields
}

/// Why `blocklist` refuses `request`, if it does.
pub(super) fn refusal(blocklist: &InviteBlocklist, request: &StoreInvite) -> Option<InviteRefusal> {
    let medium = request.threepid.medium();
    blocklist.refusal(
        &request.room_id,
        &request.sender,
        &text_fields(request, &medium),
    )
}
