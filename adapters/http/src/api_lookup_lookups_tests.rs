//! Hash details, the v2 and v1 lookups and their errors, and the forwarded-for headers they pass
//! on to the use case.
use std::collections::BTreeMap;

use verity_application::ports::driven::Binding;
use verity_application::ports::driving::{HashDetails, LookupError};
use verity_domain::{LookupAlgorithm, Requester};

use super::*;

fn details() -> HashDetails {
    HashDetails {
        lookup_pepper: "pepper1".into(),
        algorithms: vec![LookupAlgorithm::None, LookupAlgorithm::Sha256],
    }
}

#[tokio::test]
async fn hash_details_need_a_token_and_give_the_pepper_and_algorithms() {
    let mut lookup = MockLookup::new();
    lookup.expect_hash_details().returning(details);
    let cli = client(MockAssociation::new(), lookup);
    cli.get(format!("{V2}/hash_details"))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    // Synapse sends the token as a query parameter.
    let resp = cli
        .get(format!("{V2}/hash_details?access_token=good"))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        body(resp).await,
        json!({"lookup_pepper": "pepper1", "algorithms": ["none", "sha256"]})
    );
}

#[tokio::test]
async fn a_lookup_answers_the_mappings() {
    let mut lookup = MockLookup::new();
    lookup
        .expect_lookup()
        .withf(|r, _| {
            r.algorithm == "sha256" && r.pepper == "pepper1" && r.addresses.iter().eq(["h1", "h2"])
        })
        .returning(|_, _| {
            Ok(BTreeMap::from([(
                "h1".to_owned(),
                UserId::parse("@alice:example.org").unwrap(),
            )]))
        });
    let cli = client(MockAssociation::new(), lookup);
    let resp = cli
        .post(format!("{V2}/lookup"))
        .header("Authorization", "Bearer good")
        .body_json(&json!({"algorithm": "sha256", "pepper": "pepper1", "addresses": ["h1", "h2"]}))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        body(resp).await,
        json!({"mappings": {"h1": "@alice:example.org"}})
    );
}

#[tokio::test]
async fn a_lookup_body_that_is_not_a_valid_request_never_reaches_the_use_case() {
    let mut lookup = MockLookup::new();
    lookup.expect_lookup().never();
    let cli = client(MockAssociation::new(), lookup);
    for (raw, errcode) in [
        ("{nope", "M_NOT_JSON"),
        ("nope", "M_NOT_JSON"),
        (
            r#"{"algorithm": "sha256", "pepper": "pepper1", "addresses": []} x"#,
            "M_NOT_JSON",
        ),
        (
            r#"{"algorithm": "sha256", "pepper": "pepper1", "addresses": ["#,
            "M_NOT_JSON",
        ),
        ("[]", "M_BAD_JSON"),
        ("7", "M_BAD_JSON"),
        ("\"text\"", "M_BAD_JSON"),
        (r#"["sha256", "pepper1", []]"#, "M_BAD_JSON"),
        (
            r#"{"algorithm": "sha256", "pepper": "pepper1"}"#,
            "M_BAD_JSON",
        ),
        (
            r#"{"algorithm": "sha256", "pepper": "pepper1", "addresses": "h1"}"#,
            "M_BAD_JSON",
        ),
        (
            r#"{"algorithm": "sha256", "pepper": "pepper1", "addresses": [7]}"#,
            "M_BAD_JSON",
        ),
    ] {
        let resp = cli
            .post(format!("{V2}/lookup"))
            .header("Authorization", "Bearer good")
            .content_type("application/json")
            .body(raw)
            .send()
            .await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(body(resp).await["errcode"], errcode, "{raw}");
    }
}

#[tokio::test]
async fn a_wrong_pepper_answers_the_algorithm_and_the_current_pepper() {
    let mut lookup = MockLookup::new();
    lookup.expect_lookup().returning(|_, _| {
        Err(LookupError::InvalidPepper {
            algorithm: LookupAlgorithm::Sha256,
            lookup_pepper: "pepper1".into(),
        })
    });
    let cli = client(MockAssociation::new(), lookup);
    let resp = cli
        .post(format!("{V2}/lookup"))
        .header("Authorization", "Bearer good")
        .body_json(&json!({"algorithm": "sha256", "pepper": "old", "addresses": []}))
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    let answer = body(resp).await;
    assert_eq!(answer["errcode"], "M_INVALID_PEPPER");
    assert_eq!(answer["algorithm"], "sha256");
    assert_eq!(answer["lookup_pepper"], "pepper1");
    assert!(answer["error"].is_string());
}

/// A use-case error and its errcode.
type LookupCase = (fn() -> LookupError, &'static str);

#[tokio::test]
async fn lookup_errors_get_their_errcodes() {
    let cases: [LookupCase; 3] = [
        (|| LookupError::TooLarge { max: 10_000 }, "M_TOO_LARGE"),
        (
            || LookupError::UnsupportedAlgorithm("md5".into()),
            "M_INVALID_PARAM",
        ),
        (
            || LookupError::MalformedEntry(verity_domain::MalformedPlainEntry),
            "M_INVALID_PARAM",
        ),
    ];
    for (error, errcode) in cases {
        let mut lookup = MockLookup::new();
        lookup.expect_lookup().returning(move |_, _| Err(error()));
        let cli = client(MockAssociation::new(), lookup);
        let resp = cli
            .post(format!("{V2}/lookup"))
            .header("Authorization", "Bearer good")
            .body_json(&json!({"algorithm": "md5", "pepper": "p", "addresses": []}))
            .send()
            .await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(body(resp).await["errcode"], errcode);
    }
}

#[tokio::test]
async fn the_v1_lookup_answers_the_signed_association_or_an_empty_object() {
    let mut lookup = MockLookup::new();
    lookup
        .expect_lookup_signed()
        .withf(|threepid, _| threepid == &email("alice@example.org"))
        .returning(|_, _| Ok(Some(as_signed(&signed()))));
    lookup.expect_lookup_signed().returning(|_, _| Ok(None));
    let cli = client(MockAssociation::new(), lookup);
    let resp = cli
        .get(format!(
            "{V1}/lookup?medium=email&address=Alice%40Example.org"
        ))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(body(resp).await, signed());
    for query in [
        "medium=email&address=bob%40example.org",
        "medium=fax&address=x",
        "medium=email&address=not-an-email",
    ] {
        let resp = cli.get(format!("{V1}/lookup?{query}")).send().await;
        resp.assert_status_is_ok();
        assert_eq!(body(resp).await, json!({}), "{query}");
    }
}

/// Sydent 2.6.1 signed a stale `invites` list into associations made after a bind delivered
/// invites; an imported one is answered with it, or its signature would not verify.
#[tokio::test]
async fn the_v1_lookup_hands_out_an_imported_associations_invites_as_stored() {
    let mut stored = signed();
    stored["invites"] =
        json!([{"medium": "email", "address": "x@example.org", "room_id": "!r:example.org"}]);
    let answer = as_signed(&stored);
    let mut lookup = MockLookup::new();
    lookup
        .expect_lookup_signed()
        .returning(move |_, _| Ok(Some(answer.clone())));
    let cli = client(MockAssociation::new(), lookup);
    let resp = cli
        .get(format!(
            "{V1}/lookup?medium=email&address=alice%40example.org"
        ))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(body(resp).await, stored);
}

#[tokio::test]
async fn the_v1_bulk_lookup_answers_triples_and_refuses_malformed_pairs() {
    let mut lookup = MockLookup::new();
    lookup
        .expect_lookup_bulk()
        .withf(|asked, _| asked == [email("alice@example.org"), email("bob@example.org")])
        .times(1)
        .returning(|_, _| {
            Ok(vec![Binding {
                threepid: email("alice@example.org"),
                user_id: UserId::parse("@alice:example.org").unwrap(),
            }])
        });
    let cli = client(MockAssociation::new(), lookup);
    let resp = cli
        .post(format!("{V1}/bulk_lookup"))
        .body_json(&json!({"threepids": [
            ["email", "alice@example.org"], ["email", "bob@example.org"], ["email", "not-an-email"]
        ]}))
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        body(resp).await,
        json!({"threepids": [["email", "alice@example.org", "@alice:example.org"]]})
    );
    let resp = cli
        .post(format!("{V1}/bulk_lookup"))
        .body_json(&json!({"threepids": [["email"]]}))
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(body(resp).await["errcode"], "M_INVALID_PARAM");
}

#[tokio::test]
async fn the_v1_lookups_and_bind_are_gone_when_v1_is_off() {
    let cli = client_with(MockAssociation::new(), MockLookup::new(), false);
    for path in ["/lookup?medium=email&address=a%40b.c"] {
        let resp = cli.get(format!("{V1}{path}")).send().await;
        resp.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(body(resp).await["errcode"], "M_UNRECOGNIZED");
    }
    for path in ["/bulk_lookup", "/3pid/bind", "/3pid/unbind"] {
        let resp = cli
            .post(format!("{V1}{path}"))
            .body_json(&json!({}))
            .send()
            .await;
        resp.assert_status(StatusCode::NOT_FOUND);
    }
}

fn forwarded<'a>(
    request: poem::test::TestRequestBuilder<'a, AppEndpoint>,
) -> poem::test::TestRequestBuilder<'a, AppEndpoint> {
    request
        .header("X-Forwarded-For", "198.51.100.7, 10.0.0.2")
        .header("X-Forwarded-For", "10.0.0.3")
}

#[tokio::test]
async fn every_lookup_passes_the_forwarded_for_headers_on_unjudged() {
    // The test client has no peer address; the use case decides what to believe.
    let expected = || Requester::new(None, ["198.51.100.7, 10.0.0.2", "10.0.0.3"]);
    let mut lookup = MockLookup::new();
    lookup
        .expect_lookup_bulk()
        .withf(move |_, requester| *requester == expected())
        .times(1)
        .returning(|_, _| Ok(vec![]));
    lookup
        .expect_lookup_signed()
        .withf(move |_, requester| *requester == expected())
        .times(1)
        .returning(|_, _| Ok(None));
    lookup
        .expect_lookup()
        .withf(move |_, requester| *requester == expected())
        .times(1)
        .returning(|_, _| Ok(BTreeMap::new()));
    let cli = client(MockAssociation::new(), lookup);
    forwarded(cli.post(format!("{V1}/bulk_lookup")))
        .body_json(&json!({"threepids": [["email", "a@example.org"]]}))
        .send()
        .await
        .assert_status_is_ok();
    forwarded(cli.get(format!("{V1}/lookup?medium=email&address=a%40example.org")))
        .send()
        .await
        .assert_status_is_ok();
    forwarded(cli.post(format!("{V2}/lookup")))
        .header("Authorization", "Bearer good")
        .body_json(&json!({"algorithm": "none", "pepper": "p", "addresses": []}))
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn a_lookup_body_with_bytes_that_are_not_utf8_is_not_json_even_in_a_field_nobody_reads() {
    let mut lookup = MockLookup::new();
    lookup.expect_lookup().never();
    let cli = client(MockAssociation::new(), lookup);
    let mut raw =
        br#"{"algorithm": "sha256", "pepper": "pepper1", "addresses": [], "x": ""#.to_vec();
    raw.extend_from_slice(&[0xff, 0xfe]);
    raw.extend_from_slice(b"\"}");
    let resp = cli
        .post(format!("{V2}/lookup"))
        .header("Authorization", "Bearer good")
        .content_type("application/json")
        .body(raw)
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(body(resp).await["errcode"], "M_NOT_JSON");
}
