//! Verity's allow-lists: the third-party crates each layer may name in its manifest. Built from
//! the manifests as they were when the test was written; a new crate fails the test until it is
//! added here, next to its layer, by someone who decided it belongs there.
//!
//! `runtime` crates may appear in `[dependencies]` and `[build-dependencies]` (and so in tests);
//! `dev` crates only in `[dev-dependencies]`: test helpers (assertions, temporary files, the tokio
//! test macros, log capture), never a technology the layer may not use in its code.
use crate::rules::{Allowed, Policy};

/// Pure computation: encodings, hashing and signing, phone numbers, regular expressions (the
/// registration policy's address patterns), errors.
const DOMAIN: Allowed = Allowed {
    runtime: &[
        "base64",
        "caseless",
        "ed25519-dalek",
        "phonenumber",
        "regex",
        "serde_json",
        "sha2",
        "thiserror",
    ],
    dev: &["pretty_assertions", "serde", "serde_norway"],
};

/// Use cases and ports: async traits, futures combinators, logs. `mockall` is a runtime crate only
/// because the `mocks` feature exposes the ports' mocks to other crates' tests (see
/// `Policy::test_only_features`: no shipping crate turns it on).
const APPLICATION: Allowed = Allowed {
    runtime: &[
        "async-trait",
        "base64",
        "futures-util",
        "mockall",
        "serde_json",
        "sha2",
        "thiserror",
        "tracing",
    ],
    dev: &["mockall", "pretty_assertions", "tokio"],
};

/// What any adapter may use: the async runtime, serialisation, URLs, logs, errors.
const ADAPTERS_COMMON: Allowed = Allowed {
    runtime: &[
        "async-trait",
        "base64",
        "futures-util",
        "serde",
        "serde_json",
        "thiserror",
        "tokio",
        "tracing",
        "url",
    ],
    dev: &[
        "pretty_assertions",
        "sha2",
        "tempfile",
        "tokio",
        "tracing-subscriber",
    ],
};

/// Each adapter's own technology, by directory under `adapters/`.
const ADAPTERS: &[(&str, Allowed)] = &[
    (
        "http",
        Allowed {
            runtime: &["arc-swap", "bytes", "maud", "poem", "poem-openapi"],
            dev: &[],
        },
    ),
    (
        "sql",
        Allowed {
            runtime: &["sea-orm", "sea-orm-migration", "sqlx"],
            dev: &[],
        },
    ),
    (
        "notify",
        Allowed {
            runtime: &["lettre", "rand", "reqwest", "rustls"],
            dev: &[],
        },
    ),
    (
        "matrix",
        Allowed {
            runtime: &["hickory-resolver", "ipnet", "reqwest", "rustls"],
            dev: &[],
        },
    ),
    (
        "keys",
        Allowed {
            runtime: &[],
            dev: &[],
        },
    ),
    (
        "limits",
        Allowed {
            runtime: &["governor"],
            dev: &[],
        },
    ),
    (
        "metrics",
        Allowed {
            runtime: &["prometheus-client"],
            dev: &[],
        },
    ),
    (
        "memory",
        Allowed {
            runtime: &[],
            dev: &[],
        },
    ),
    (
        "ldap",
        Allowed {
            runtime: &["ldap3", "rustls"],
            dev: &[],
        },
    ),
    (
        "rest",
        Allowed {
            runtime: &["reqwest", "rustls"],
            dev: &[],
        },
    ),
    (
        "exec",
        Allowed {
            runtime: &["nix"],
            dev: &[],
        },
    ),
];

/// Configuration (YAML, CLI), start-up, logs. `rustls` only to install the process-wide crypto
/// provider the adapters' TLS clients share; every protocol stays in its adapter. `mimalloc` is
/// the binary's allocator (docs/benchmarks.md).
const INFRASTRUCTURE: Allowed = Allowed {
    runtime: &[
        "anyhow",
        "arc-swap",
        "async-trait",
        "clap",
        "ipnet",
        "mimalloc",
        "rand",
        "rustls",
        "serde",
        "serde_ignored",
        "serde_json",
        "serde_norway",
        "serde_path_to_error",
        "thiserror",
        "tokio",
        "tracing",
        "tracing-subscriber",
        "url",
    ],
    dev: &["nix", "pretty_assertions", "tempfile"],
};

/// Technologies that belong to one place (by crate name prefix), checked on top of the lists so
/// that adding, say, `poem` to the SQL adapter's list still fails.
const OWNED: &[(&str, &[&str])] = &[
    ("poem", &["adapters/http"]),
    ("maud", &["adapters/http"]),
    ("sea-orm", &["adapters/sql"]),
    ("sqlx", &["adapters/sql"]),
    ("lettre", &["adapters/notify"]),
    (
        "reqwest",
        &["adapters/matrix", "adapters/notify", "adapters/rest"],
    ),
    ("hickory", &["adapters/matrix"]),
    ("ldap3", &["adapters/ldap"]),
    ("governor", &["adapters/limits"]),
    ("prometheus-client", &["adapters/metrics"]),
    (
        "rustls",
        &[
            "adapters/matrix",
            "adapters/notify",
            "adapters/ldap",
            "adapters/rest",
            "infrastructure",
        ],
    ),
];

pub const VERITY: Policy = Policy {
    domain: DOMAIN,
    application: APPLICATION,
    adapters_common: ADAPTERS_COMMON,
    adapters: ADAPTERS,
    infrastructure: INFRASTRUCTURE,
    owned: OWNED,
    test_only_features: &["mocks", "contract", "testing"],
    io_crates: &[
        "poem",
        "poem-openapi",
        "sea-orm",
        "sea-orm-migration",
        "sqlx",
        "lettre",
        "reqwest",
        "maud",
        "serde_yaml",
        "serde_norway",
        "hyper",
        "tokio",
        "mio",
        "hickory-resolver",
        "rustls",
        "ldap3",
        "governor",
        "prometheus-client",
    ],
};
