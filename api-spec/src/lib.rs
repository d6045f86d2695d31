//! Verity's OpenAPI document, generated from `adapters/http` and committed as `openapi.yaml`.
//!
//! Regenerate it after changing the API with `UPDATE_OPENAPI=1 cargo test -p verity-api-spec`;
//! `tests/openapi.rs` fails whenever the committed file and the code disagree.

/// The committed document, for tools that want it without reading the file.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");
