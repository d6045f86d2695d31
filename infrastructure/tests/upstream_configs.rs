//! Every configuration file and YAML snippet in the samples and docs of mxisd (1.0 to 1.4) and
//! ma1sd, kept as data under `fixtures/upstream/`, loads as Verity would load it from an
//! operator's file.
//!
//! Each fixture file holds one document (a sample file) or several (a doc page's snippets,
//! separated by `---` lines). A document says what must happen in comments:
//! - `# expect: starts`: the configuration is accepted; `# warns: a, b` then lists the paths of
//!   its warnings, in order (no `# warns:` line: no warning);
//! - `# expect: error <key>`: start-up stops with an error about `<key>` whose text names it;
//! - `# expect: not yaml`: the snippet is pseudo-YAML from the docs (`<boolean>` placeholders,
//!   `...`), refused with the line and column.
//!
//! Snippets are parts of a file, so those without `matrix.domain` get `matrix: {domain:
//! example.org}` added before loading; sample files are loaded as they ship.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};
use verity::config::{ConfigWarning, parse};

struct Document {
    origin: String,
    text: String,
    expect: String,
    warns: Vec<String>,
}

fn fixtures(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fixtures(&path, found);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            found.push(path);
        }
    }
}

fn documents(path: &Path) -> Vec<Document> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut documents = Vec::new();
    for (index, part) in text.split("\n---\n").enumerate() {
        let comment = |prefix: &str| {
            part.lines()
                .find_map(|line| line.strip_prefix(prefix))
                .map(|rest| rest.trim().to_owned())
        };
        let expect = comment("# expect:")
            .unwrap_or_else(|| panic!("{}: document {index} has no `# expect:`", path.display()));
        let warns = comment("# warns:")
            .map(|list| list.split(", ").map(str::to_owned).collect())
            .unwrap_or_default();
        let origin = comment("# docs/").map_or_else(
            || path.display().to_string(),
            |at| format!("{} (docs/{at})", path.display()),
        );
        documents.push(Document {
            origin,
            text: part.to_owned(),
            expect,
            warns,
        });
    }
    documents
}

/// `matrix.domain` added to a snippet that lacks it; `None` when the text is not YAML.
fn completed(document: &Document, whole_file: bool) -> Option<String> {
    let value: Value = serde_norway::from_str(&document.text).ok()?;
    if whole_file {
        return Some(document.text.clone());
    }
    let mut map = match value {
        Value::Mapping(map) => map,
        Value::Null => Mapping::new(),
        // Not a mapping: loaded as written, so the error is Verity's own.
        _ => return Some(document.text.clone()),
    };
    // mxisd 1.0-1.2 snippets may write it as one dotted key.
    if map.contains_key("matrix.domain") {
        return Some(serde_norway::to_string(&Value::Mapping(map)).unwrap());
    }
    let matrix = map
        .entry(Value::from("matrix"))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if let Value::Mapping(matrix) = matrix
        && !matrix.contains_key("domain")
    {
        matrix.insert(Value::from("domain"), Value::from("example.org"));
    }
    Some(serde_norway::to_string(&Value::Mapping(map)).unwrap())
}

/// What happened, written as the fixture's comments would say it.
fn outcome(document: &Document, whole_file: bool) -> (String, Vec<String>) {
    let Some(text) = completed(document, whole_file) else {
        // The parser's message, with where it stopped (the key it was in, when there is one).
        return match parse(&document.text) {
            Err(error) if error.to_string().contains(" at line ") => {
                ("not yaml".to_owned(), Vec::new())
            }
            Err(other) => (format!("error without a position: {other}"), Vec::new()),
            Ok(_) => (
                "starts, although the test could not read it".to_owned(),
                Vec::new(),
            ),
        };
    };
    match parse(&text) {
        Ok(loaded) => (
            "starts".to_owned(),
            loaded
                .warnings
                .iter()
                .map(ConfigWarning::path)
                .map(str::to_owned)
                .collect(),
        ),
        Err(error) => match error.key() {
            // The operator reads the key first, then what to do about it.
            Some(key) if error.to_string().starts_with(key) => (format!("error {key}"), Vec::new()),
            _ => (format!("error without a key: {error}"), Vec::new()),
        },
    }
}

#[test]
fn every_mxisd_and_ma1sd_sample_and_doc_snippet_starts_or_fails_naming_the_key() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upstream");
    let mut files = Vec::new();
    fixtures(&dir, &mut files);
    files.sort();
    let mut failures = String::new();
    let mut checked = 0;
    for file in &files {
        let whole_file = !file.to_string_lossy().contains(".md.");
        for document in documents(file) {
            checked += 1;
            let (expect, warns) = outcome(&document, whole_file);
            if expect != document.expect || warns != document.warns {
                let _ = writeln!(
                    failures,
                    "{}\n  fixture: expect: {} / warns: {}\n  actual:  expect: {expect} / warns: {}",
                    document.origin,
                    document.expect,
                    document.warns.join(", "),
                    warns.join(", ")
                );
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
    // Both projects' sample files and their docs' snippets are all there.
    assert!(
        checked >= 190,
        "only {checked} documents in {}",
        dir.display()
    );
}

#[test]
fn the_unchanged_sample_files_stop_at_the_empty_matrix_domain_with_the_fix() {
    for sample in [
        "ma1sd/ma1sd.example.yaml",
        "mxisd/mxisd.example.yaml",
        "mxisd-1.x/v1.0.1__application.example.yaml",
        "mxisd-1.x/v1.1.1__application.example.yaml",
        "mxisd-1.x/v1.2.2__application.example.yaml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/upstream")
            .join(sample);
        let text = std::fs::read_to_string(&path).unwrap();
        let error = parse(&text).unwrap_err();
        assert_eq!(error.key(), Some("matrix.domain"), "{sample}: {error}");
        assert!(
            error.to_string().contains("set it to the domain"),
            "{sample}: {error}"
        );
        // What the operator does next: fill in the domain, and the file starts.
        let filled = text
            .replacen("  domain: ''", "  domain: 'example.org'", 1)
            .replacen("matrix.domain: ''", "matrix.domain: 'example.org'", 1);
        let loaded = parse(&filled).unwrap_or_else(|e| panic!("{sample}: {e}"));
        assert_eq!(loaded.settings.matrix.domain.as_str(), "example.org");
        assert!(loaded.settings.threepid.email.configured, "{sample}");
    }
}
