use pretty_assertions::assert_eq;
use verity_adapter_sql::{DirectoryIdType, DirectoryQueries, TermBinding};

use crate::config::{ConfigError, effective_yaml, parse};

fn synapse(section: &str) -> Result<Option<DirectoryQueries>, ConfigError> {
    parse(&format!(
        "matrix: {{domain: example.org}}\nsynapseSql:\n  enabled: true\n  connection: /s.db\n{section}"
    ))
    .map(|loaded| loaded.settings.synapse_sql.unwrap().directory)
}

fn generic(section: &str) -> Result<Option<DirectoryQueries>, ConfigError> {
    parse(&format!(
        "matrix: {{domain: example.org}}\nsql:\n  enabled: true\n  connection: /p.db\n{section}"
    ))
    .map(|loaded| loaded.settings.sql.unwrap().config.directory)
}

#[test]
fn synapse_sql_searches_with_ma1sds_queries_for_its_database_type() {
    let sqlite = synapse("").unwrap().unwrap();
    let name = sqlite.by_name.unwrap();
    assert_eq!(
        name.as_str(),
        "select p.full_user_id, p.displayname from profiles p where p.displayname like ? \
         escape '!'"
    );
    assert_eq!(name.id_type, DirectoryIdType::Mxid);
    assert_eq!(name.binding, TermBinding::Contains);
    assert!(
        sqlite
            .by_threepid
            .unwrap()
            .as_str()
            .contains("user_threepids")
    );
    let postgres = parse(
        "matrix: {domain: example.org}\nsynapseSql: {enabled: true, type: postgresql, \
         connection: '//db/synapse?user=s&password=p'}\n",
    )
    .unwrap()
    .settings
    .synapse_sql
    .unwrap()
    .directory
    .unwrap();
    let by_name = postgres.by_name.unwrap();
    assert!(by_name.as_str().contains("ILIKE ? ESCAPE '!'"));
    assert!(by_name.as_str().contains("p.full_user_id = u.name"));
}

#[test]
fn the_operators_queries_and_types_replace_the_defaults_and_can_be_switched_off() {
    let queries = synapse(
        "  directory:\n    query:\n      name: {type: localpart, value: 'SELECT user_id, \
         displayname FROM profiles WHERE user_id LIKE ?'}\n",
    )
    .unwrap()
    .unwrap();
    let name = queries.by_name.unwrap();
    assert!(matches!(name.id_type, DirectoryIdType::Localpart(_)));
    assert!(name.as_str().starts_with("SELECT user_id"));
    // The other keeps its default.
    assert!(queries.by_threepid.is_some());
    assert_eq!(synapse("  directory: {enabled: false}\n").unwrap(), None);
}

#[test]
fn the_generic_store_has_no_default_query_and_binds_the_term_as_typed() {
    assert_eq!(generic("").unwrap(), Some(DirectoryQueries::default()));
    let queries = generic(
        "  directory:\n    query:\n      threepid: {value: \"SELECT mxid, name FROM people \
         WHERE mail LIKE '%' || ? || '%'\"}\n",
    )
    .unwrap()
    .unwrap();
    assert_eq!(queries.by_name, None);
    let threepid = queries.by_threepid.unwrap();
    assert_eq!(threepid.binding, TermBinding::AsTyped);
    assert_eq!(threepid.id_type, DirectoryIdType::Mxid);
}

#[test]
fn bad_types_and_queries_are_refused_naming_their_key() {
    for (section, key) in [
        (
            "  directory: {query: {name: {type: uid, value: 'SELECT a, b FROM t WHERE a = ?'}}}\n",
            "synapseSql.directory.query.name.type",
        ),
        (
            "  directory: {query: {threepid: {value: 'SELECT a, b FROM t'}}}\n",
            "synapseSql.directory.query.threepid.value",
        ),
        (
            "  directory: {query: {name: {value: 'SELECT a FROM t WHERE a = :medium'}}}\n",
            "synapseSql.directory.query.name.value",
        ),
    ] {
        let err = synapse(section).unwrap_err();
        assert_eq!(err.key(), Some(key), "{section}: {err}");
    }
}

#[test]
fn the_dump_reads_back_to_the_same_queries() {
    for yaml in [
        "synapseSql: {enabled: true, connection: /s.db}\n",
        "synapseSql: {enabled: true, connection: /s.db, directory: {enabled: false}}\n",
        "sql: {enabled: true, connection: /p.db, directory: {query: {name: {type: localpart, \
         value: 'SELECT l, n FROM p WHERE l = ?'}}}}\n",
        "sql: {enabled: true, connection: /p.db}\n",
    ] {
        let yaml = format!("matrix: {{domain: example.org}}\n{yaml}");
        let settings = parse(&yaml).unwrap().settings;
        let dumped = effective_yaml(&settings);
        let again = parse(&dumped).unwrap();
        assert_eq!(again.warnings, [], "{dumped}");
        assert_eq!(
            again.settings.synapse_sql.map(|s| s.directory),
            settings.synapse_sql.map(|s| s.directory),
            "{dumped}"
        );
        assert_eq!(
            again.settings.sql.map(|s| s.config.directory),
            settings.sql.map(|s| s.config.directory),
            "{dumped}"
        );
    }
}
