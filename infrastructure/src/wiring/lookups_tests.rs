//! The identity backends are asked in the order of their priorities (`memory.priority`,
//! `bindings.priority`, `synapseSql.identity.priority`, `ldap.identity.priority`,
//! `netiq.identity.priority`), ties in the order memory, bindings, synapseSql, ldap, netiq.
use verity_application::ports::driven::{Binding, BindingStore as _};
use verity_application::ports::driving::{Lookup as _, LookupRequest};
use verity_domain::{
    Addresses, LookupHash, Medium, Pepper, Requester, ThreePid, Timestamp, UserId,
};

use super::BackendKind::{Bindings, Ldap, Memory, Netiq, SynapseSql};
use super::{BackendKind, backend_order};
use crate::config;

/// The `memory` backend with one user, memo, who has `shared@example.org`; `{priority}` is a
/// line of its own or nothing.
fn memory(priority: &str) -> String {
    format!(
        "memory:\n  enabled: true\n{priority}  identities:\n    - username: memo\n      \
         threepids:\n        - {{medium: email, address: shared@example.org}}\n"
    )
}

/// Parsing opens no database, so the Synapse file need not exist.
const SYNAPSE: &str = "synapseSql:\n  enabled: true\n  connection: /nowhere/synapse.db\n";

fn order(sections: &str) -> Vec<BackendKind> {
    let yaml = format!("matrix: {{domain: example.org}}\n{sections}");
    backend_order(&config::parse(&yaml).unwrap().settings)
}

#[test]
fn by_default_memory_is_asked_first_then_the_bindings_then_synapse() {
    assert_eq!(
        order(&format!("{}{SYNAPSE}", memory(""))),
        [Memory, Bindings, SynapseSql]
    );
}

#[test]
fn a_higher_priority_moves_a_backend_ahead_and_a_lower_one_behind() {
    let synapse_first = format!("{SYNAPSE}  identity: {{priority: 30}}\n");
    assert_eq!(
        order(&format!("{}{synapse_first}", memory(""))),
        [Memory, SynapseSql, Bindings]
    );
    let memory_last = memory("  priority: 0\n");
    assert_eq!(
        order(&format!("{memory_last}{SYNAPSE}")),
        [Bindings, SynapseSql, Memory]
    );
    let bindings_first = "bindings: {priority: 3000000000}\n";
    assert_eq!(
        order(&format!("{}{SYNAPSE}{bindings_first}", memory(""))),
        [Bindings, Memory, SynapseSql]
    );
}

#[test]
fn equal_priorities_keep_the_order_memory_bindings_synapse() {
    let all_five = format!(
        "{}{SYNAPSE}  identity: {{priority: 5}}\nbindings: {{priority: 5}}\n",
        memory("  priority: 5\n")
    );
    assert_eq!(order(&all_five), [Memory, Bindings, SynapseSql]);
}

/// A directory section (`ldap` or `netiq`); parsing connects to nothing. `{identity}` is a
/// line of its own or nothing.
fn directory(section: &str, identity: &str) -> String {
    format!(
        "{section}:\n  enabled: true\n  connection: {{host: 127.0.0.1, baseDNs: ['dc=x']}}\n\
         {identity}"
    )
}

#[test]
fn the_directories_come_after_synapse_by_default_ldap_before_netiq() {
    let both = format!(
        "{}{SYNAPSE}{}{}",
        memory(""),
        directory("netiq", ""),
        directory("ldap", "")
    );
    assert_eq!(order(&both), [Memory, Bindings, SynapseSql, Ldap, Netiq]);
}

#[test]
fn a_directorys_identity_priority_moves_it_like_any_backend() {
    let ldap_first = format!(
        "{SYNAPSE}{}{}",
        directory("ldap", "  identity: {priority: 30}\n"),
        directory("netiq", "  identity: {priority: 25}\n")
    );
    assert_eq!(order(&ldap_first), [Ldap, Netiq, Bindings, SynapseSql]);
    let netiq_last = format!(
        "{}{}",
        directory("ldap", ""),
        directory("netiq", "  identity: {priority: 0}\n")
    );
    assert_eq!(order(&netiq_last), [Bindings, Ldap, Netiq]);
    let below_bindings = directory("ldap", "  identity: {priority: 19}\n");
    assert_eq!(
        order(&format!("{SYNAPSE}{below_bindings}")),
        [Bindings, SynapseSql, Ldap]
    );
}

#[test]
fn only_the_backends_switched_on_are_ordered() {
    assert_eq!(order(""), [Bindings]);
    assert_eq!(order("bindings: {enabled: false}\n"), []);
    assert_eq!(
        order(&format!("{}bindings: {{enabled: false}}\n", memory(""))),
        [Memory]
    );
}

/// Builds the whole server's use cases over a fresh SQLite file in which `shared@example.org`
/// is bound to alice, with the `memory` backend saying it is memo's, and asks who has it: a v1
/// bulk lookup (the backends, asked in order) and a v2 `sha256` lookup (the hash table, built
/// from every backend's feed).
async fn who_has_the_shared_address(memory_priority: &str) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("verity.db");
    let yaml = format!(
        "matrix: {{domain: example.org}}\nkey: {{path: ':memory:'}}\nstorage:\n  backend: \
         sqlite\n  provider: {{sqlite: {{database: '{}'}}}}\n{}",
        database.display(),
        memory(memory_priority)
    );
    let settings = config::parse(&yaml).unwrap().settings;
    let store = crate::startup::open_store(&settings.storage).await.unwrap();
    let shared = ThreePid::parse(Medium::Email, "shared@example.org").unwrap();
    let alice = Binding {
        threepid: shared.clone(),
        user_id: UserId::parse("@alice:example.org").unwrap(),
    };
    store
        .binding_store()
        .bind(&alice, Timestamp::from_millis(1_000))
        .await
        .unwrap();
    let use_cases = super::super::use_cases(
        &settings,
        &store,
        &super::super::metrics::Metered::default(),
    )
    .await
    .unwrap();
    let requester = Requester::new(None, []);
    let bulk = use_cases
        .lookup
        .lookup_bulk(std::slice::from_ref(&shared), &requester)
        .await
        .unwrap()
        .into_iter()
        .map(|binding| binding.user_id.as_str().to_owned())
        .collect();
    // The first table of two entries is built in a moment, in the background.
    for _ in 0..100 {
        if use_cases.index.is_ready() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let pepper = use_cases.lookup.hash_details().await.lookup_pepper;
    let hash = LookupHash::of(&shared, &Pepper::parse(&pepper).unwrap());
    let request = LookupRequest {
        algorithm: "sha256".into(),
        pepper,
        addresses: Addresses::from_iter([hash.as_str()]),
    };
    let hashed = use_cases
        .lookup
        .lookup(request, &requester)
        .await
        .unwrap()
        .into_values()
        .map(|user| user.as_str().to_owned())
        .collect();
    (bulk, hashed)
}

#[tokio::test]
async fn the_backend_with_the_higher_priority_answers_for_a_3pid_two_backends_know() {
    // By default the operator's own list wins, as in mxisd, in the backends and the hash table.
    let memo = vec!["@memo:example.org".to_owned()];
    assert_eq!(who_has_the_shared_address("").await, (memo.clone(), memo));
    // Below the bindings' 20, the binds made here win.
    let alice = vec!["@alice:example.org".to_owned()];
    assert_eq!(
        who_has_the_shared_address("  priority: 19\n").await,
        (alice.clone(), alice)
    );
}

#[test]
fn the_rest_store_comes_after_the_directories_by_default_and_moves_with_its_priority() {
    use super::BackendKind::Rest;
    let rest = |priority: &str| {
        format!("rest:\n  enabled: true\n  host: 'http://127.0.0.1:1'\n{priority}")
    };
    let ldap = directory("ldap", "");
    assert_eq!(
        order(&format!("{ldap}{}", rest(""))),
        [Bindings, Ldap, Rest]
    );
    let first = rest("  identity: {priority: 21}\n");
    assert_eq!(order(&format!("{ldap}{first}")), [Rest, Bindings, Ldap]);
}

#[test]
fn the_exec_store_comes_last_by_default_as_ma1sd_s_priority_0_and_moves_with_it() {
    use super::BackendKind::Exec;
    let exec = |priority: &str| {
        format!(
            "exec:\n  enabled: true\n  identity:\n{priority}    lookup: {{single: {{command: /opt/lookup}}}}\n"
        )
    };
    let ldap = directory("ldap", "");
    assert_eq!(
        order(&format!("{}{ldap}{}", memory(""), exec(""))),
        [Memory, Bindings, Ldap, Exec]
    );
    let first = exec("    priority: 30\n");
    assert_eq!(order(&format!("{ldap}{first}")), [Exec, Bindings, Ldap]);
}
