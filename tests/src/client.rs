//! The Rust client generated at build time from the committed OpenAPI document, so every
//! end-to-end test exercises the document as well as the server.
#![allow(missing_docs, clippy::all, unused)]

progenitor::generate_api!("../api-spec/openapi.yaml");
