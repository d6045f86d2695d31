//! The Rust client generated at build time from the committed OpenAPI document, so every
//! end-to-end test exercises the document as well as the server.
#![allow(missing_docs, clippy::all, unused)]

// The document names the rules of some strings (`OpaqueId`: sids and client secrets, `UserId`,
// `Medium`, ...); the tests send any string there, including invalid ones on purpose.
progenitor::generate_api!(
    spec = "../api-spec/openapi.yaml",
    replace = {
        OpaqueId = String,
        UserId = String,
        Medium = String,
        InviteMedium = String,
        ValidationToken = String,
        LookupAlgorithm = String,
        TokenType = String,
        ServerName = String,
        ThreePidPair = Vec<String>,
        EmailAddress = String,
        RoomId = String,
        PolicyUrl = String,
        SendAttempt = String,
        Ed25519Seed = String,
        NextLink = String,
        InviteText = String,
    }
);
