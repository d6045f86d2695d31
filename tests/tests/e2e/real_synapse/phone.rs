//! Phone validation delegated to Verity (`account_threepid_delegates.msisdn`): Synapse proxies
//! requestToken to Verity's v1 API, the code goes out through the fake Twilio, and the client
//! submits it to the `submit_url` Synapse returns, which Synapse proxies to Verity's v1
//! submitToken.
use std::sync::Arc;

use serde_json::json;

use super::World;
use super::matrix::{send, text};

const SECRET: &str = "phoneSecretOfCarol";

pub async fn a_phone_number_is_validated_by_verity_for_synapse(world: Arc<World>) {
    let carol = world.user("carol").await;
    let (status, created) = carol
        .post(
            "/_matrix/client/v3/account/3pid/msisdn/requestToken",
            &json!({
                "client_secret": SECRET,
                "country": "GB",
                "phone_number": "07911 123456",
                "send_attempt": 1,
            }),
        )
        .await;
    assert_eq!(
        status,
        200,
        "requestToken through Synapse: {created}\n{}",
        world.synapse_lines("msisdn")
    );
    let sid = text(&created, "sid");
    let submit_url = text(&created, "submit_url");
    assert!(
        submit_url.starts_with(&world.synapse.client_url()),
        "Synapse's own submit_url: {submit_url}"
    );

    let sms = world.twilio.messages().pop().expect("a text message");
    assert_eq!(sms.to, "+447911123456");
    let code: String = sms.body.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{}", sms.body);
    let submit = |token: String| {
        let body = json!({"sid": sid, "client_secret": SECRET, "token": token});
        send(world.http.post(&submit_url).json(&body))
    };

    // A mistyped code: Synapse passes Sydent's 200 {"success": false} through; any non-2xx
    // answer would become "Error contacting the identity server" (fault 5 of issue 11).
    let (status, refused) = submit(mistyped(&code)).await;
    assert_eq!(
        (status, refused["success"].clone()),
        (200, json!(false)),
        "a mistyped code through Synapse: {refused}\n{}",
        world.synapse_lines("msisdn")
    );

    let (status, accepted) = submit(code).await;
    assert_eq!(
        (status, accepted["success"].clone()),
        (200, json!(true)),
        "the right code through Synapse: {accepted}\n{}",
        world.synapse_lines("msisdn")
    );

    // Synapse asks Verity (v1 getValidated3pid) before adding the number to the account.
    let (status, added) = carol
        .post_with_password(
            "/_matrix/client/v3/account/3pid/add",
            &json!({"client_secret": SECRET, "sid": sid}),
        )
        .await;
    assert_eq!(
        status,
        200,
        "3pid/add: {added}\n{}",
        world.synapse_lines("threepid")
    );
    let (status, threepids) = carol.get("/_matrix/client/v3/account/3pid").await;
    assert_eq!(status, 200, "{threepids}");
    let numbers: Vec<_> = threepids["threepids"]
        .as_array()
        .expect("threepids")
        .iter()
        .map(|threepid| (threepid["medium"].clone(), threepid["address"].clone()))
        .collect();
    assert_eq!(numbers, vec![(json!("msisdn"), json!("447911123456"))]);
}

/// `code` with its last digit changed.
fn mistyped(code: &str) -> String {
    let mut digits: Vec<char> = code.chars().collect();
    if let Some(last) = digits.last_mut() {
        *last = if *last == '0' { '1' } else { '0' };
    }
    digits.into_iter().collect()
}
