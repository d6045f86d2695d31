//! Registration control in front of a real Synapse: the client's
//! `register/msisdn/requestToken` reaches Verity (as the reverse proxy routes it), the policy
//! lets a British mobile number through to Synapse, which delegates the validation back to
//! Verity's v1 API (`account_threepid_delegates.msisdn`), and the code goes out by SMS; a number
//! the policy refuses gets ma1sd's 403 and nothing is sent.
use std::sync::Arc;

use serde_json::{Value, json};

use super::World;
use super::matrix::send;

const PATH: &str = "/_matrix/client/v3/register/msisdn/requestToken";

async fn request_token(world: &World, phone_number: &str, country: &str) -> (u16, Value) {
    let body = json!({
        "client_secret": "registrationSecret",
        "country": country,
        "phone_number": phone_number,
        "send_attempt": 1,
    });
    send(world.http.post(world.app.url(PATH)).json(&body)).await
}

pub async fn a_number_the_policy_allows_registers_through_synapse_and_another_is_refused(
    world: Arc<World>,
) {
    let sent_before = world.twilio.messages().len();
    let (status, answer) = request_token(&world, "07400 123456", "GB").await;
    assert_eq!(
        status,
        200,
        "an allowed number through Verity and Synapse: {answer}\n{}",
        world.synapse_lines("msisdn")
    );
    assert!(
        answer["sid"].as_str().is_some_and(|sid| !sid.is_empty()),
        "{answer}"
    );
    let messages = world.twilio.messages();
    assert_eq!(
        messages.len(),
        sent_before + 1,
        "one SMS for the registration"
    );
    assert_eq!(
        messages.last().map(|sms| sms.to.as_str()),
        Some("+447400123456")
    );

    let (status, answer) = request_token(&world, "202 555 0123", "US").await;
    assert_eq!(
        (status, answer),
        (
            403,
            json!({"errcode": "M_THREEPID_DENIED", "error": "Your msisdn address cannot be used for registration"})
        )
    );
    assert_eq!(
        world.twilio.messages().len(),
        sent_before + 1,
        "nothing sent"
    );
}
