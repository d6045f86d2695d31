//! A Synapse user as Element is one: registered through the client API, calling it with its
//! access token, answering user-interactive authentication with its password.
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// A user registered on the test Synapse.
pub struct MatrixUser {
    /// `@<localpart>:<server name>`.
    pub user_id: String,
    access_token: String,
    homeserver: String,
    http: reqwest::Client,
}

impl MatrixUser {
    /// Registers `localpart` with `m.login.dummy` (two calls, as Element makes them: the first
    /// gets the user-interactive session).
    pub async fn register(http: &reqwest::Client, homeserver: &str, localpart: &str) -> Self {
        let url = format!("{homeserver}/_matrix/client/v3/register");
        let body = json!({"username": localpart, "password": PASSWORD});
        let (status, flows) = send(http.post(&url).json(&body)).await;
        assert_eq!(status, 401, "register {localpart}: {flows}");
        let mut body = body;
        body["auth"] = json!({"type": "m.login.dummy", "session": flows["session"]});
        let (status, registered) = send(http.post(&url).json(&body)).await;
        assert_eq!(status, 200, "register {localpart}: {registered}");
        Self {
            user_id: text(&registered, "user_id"),
            access_token: text(&registered, "access_token"),
            homeserver: homeserver.to_owned(),
            http: http.clone(),
        }
    }

    /// The user's access token (for a request Synapse's reverse proxy would route elsewhere).
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// `POST <client API><path>` with `body`, authenticated: the status and the JSON answer.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let url = format!("{}{path}", self.homeserver);
        send(
            self.http
                .post(url)
                .bearer_auth(&self.access_token)
                .json(body),
        )
        .await
    }

    /// `GET <client API><path>`, authenticated.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.homeserver);
        send(self.http.get(url).bearer_auth(&self.access_token)).await
    }

    /// `POST <path>` behind user-interactive authentication: the first call gets a session,
    /// the second answers it with the password.
    pub async fn post_with_password(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, challenge) = self.post(path, body).await;
        if status != 401 {
            return (status, challenge);
        }
        let mut body = body.clone();
        body["auth"] = json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": self.user_id},
            "password": PASSWORD,
            "session": challenge["session"],
        });
        self.post(path, &body).await
    }

    /// An OpenID token for the identity server (`/user/{userId}/openid/request_token`).
    pub async fn openid_token(&self) -> Value {
        let path = format!(
            "/_matrix/client/v3/user/{}/openid/request_token",
            encode(&self.user_id)
        );
        let (status, token) = self.post(&path, &json!({})).await;
        assert_eq!(status, 200, "openid token for {}: {token}", self.user_id);
        token
    }

    /// Creates a private room and returns its ID.
    pub async fn create_room(&self) -> String {
        let (status, room) = self
            .post(
                "/_matrix/client/v3/createRoom",
                &json!({"name": "Verity test"}),
            )
            .await;
        assert_eq!(status, 200, "createRoom: {room}");
        text(&room, "room_id")
    }
}

/// Sends `request` and returns its status and JSON body (`null` when it is not JSON).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the request is answered");
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// `value[key]` as a string.
pub fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {value}"))
        .to_owned()
}

/// Percent-encodes a path segment (user and room IDs: `@`, `:`, `!`).
pub fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
