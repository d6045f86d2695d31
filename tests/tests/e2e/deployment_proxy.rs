//! The guide's reverse proxies (docs/deployment/nginx.conf, Caddyfile): each passes its own
//! check, and sends every public path Verity serves to Verity, and nothing else. Which location
//! or route a request takes is worked out as nginx and Caddy do, from nginx's file and from the
//! JSON `caddy adapt` makes of the Caddyfile.
use std::process::Command;

use regex::Regex;
use serde_json::Value;

use crate::deployment::{read, root};
use crate::deployment_tools::tool;

/// Paths the server serves that the proxies keep to the host on purpose: mxisd's monitoring
/// endpoints, the orchestrators' health endpoints, the internal listener's and the metrics
/// listener's.
const NOT_PUBLIC: [&str; 5] = [
    "/metrics",
    "/status",
    "/version",
    "/_verity/health/",
    "/_matrix-internal/",
];

/// Where a path is served on which name: (host, path).
const ELSEWHERE: [(&str, &str); 10] = [
    (
        "matrix.example.org",
        "/_matrix/client/v3/rooms/%21room%3Aexample.org/join",
    ),
    (
        "matrix.example.org",
        "/_matrix/client/v3/rooms/%21room%3Aexample.org/invite/x",
    ),
    ("matrix.example.org", "/_matrix/client/v3/sync"),
    ("matrix.example.org", "/_matrix/client/v3/register"),
    (
        "matrix.example.org",
        "/_matrix/client/v3/user_directory/search/x",
    ),
    (
        "matrix.example.org",
        "/_matrix/client/v3/register/email/requestToken/x",
    ),
    (
        "matrix.example.org",
        "/_matrix/client/v1/register/email/requestToken",
    ),
    ("matrix.example.org", "/_matrix/federation/v1/version"),
    (
        "matrix.example.org",
        "/_synapse/client/password_reset/email/submit_token",
    ),
    ("matrix.example.org", "/_matrix/identity/v2"),
];

/// Every path the server answers, concrete: the OpenAPI document's and the routes the HTTP
/// adapter adds beside it (its `*_PATH` constants: the registration `requestToken` and the room
/// invite when configured, the document itself, and the internal listener's), parameters filled
/// in.
pub(crate) fn served_paths() -> Vec<String> {
    let spec: Value = serde_norway::from_str(&read("api-spec/openapi.yaml")).unwrap();
    let parameter = Regex::new(r"\{[^}]+\}").unwrap();
    let mut paths: Vec<String> = spec["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|path| parameter.replace_all(path, "ed25519:0").into_owned())
        .collect();
    for route in adapter_routes() {
        paths.extend(expand(&route));
    }
    paths
}

/// The values of the `*_PATH` constants of adapters/http/src (poem's `:name` parameters).
fn adapter_routes() -> Vec<String> {
    let constant = Regex::new(r#"const [A-Z_]*PATH: &str =\s*"([^"]+)";"#).unwrap();
    let mut routes = Vec::new();
    let mut dirs = vec![root().join("adapters/http/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs")
                && !path.to_string_lossy().ends_with("tests.rs")
            {
                let text = std::fs::read_to_string(&path).unwrap();
                routes.extend(constant.captures_iter(&text).map(|c| c[1].to_owned()));
            }
        }
    }
    assert!(routes.len() >= 4, "{routes:?}");
    routes
}

/// `route` with each parameter given every value it takes (`:version`, `:medium`) or a sample.
fn expand(route: &str) -> Vec<String> {
    let mut paths = vec![String::new()];
    for segment in route.split('/').skip(1) {
        let values: Vec<&str> = match segment {
            ":version" => vec!["r0", "v3"],
            ":medium" => vec!["email", "msisdn"],
            ":room_id" => vec!["%21room%3Aexample.org"],
            ":user_id" => vec!["%40alice%3Aexample.org"],
            other if other.starts_with(':') => panic!("a sample value for {other} in {route}"),
            other => vec![other],
        };
        paths = paths
            .iter()
            .flat_map(|path| values.iter().map(move |value| format!("{path}/{value}")))
            .collect();
    }
    paths
}

fn public(path: &str) -> bool {
    !NOT_PUBLIC
        .iter()
        .any(|prefix| path == *prefix || (prefix.ends_with('/') && path.starts_with(prefix)))
}

/// Where the proxy sends `path` on `host`: `verity`, `synapse`, `file` or `none`.
type Router<'a> = &'a dyn Fn(&str, &str) -> String;

/// The checks both proxies must pass: every public path reaches Verity on some name (the
/// identity paths on Verity's own), every route to Verity serves some path, and the
/// homeserver's own paths stay with Synapse.
fn assert_routes(proxy: &str, route: Router<'_>, verity_routes: &[String]) {
    let served = served_paths();
    for path in served.iter().filter(|path| public(path)) {
        let host = if path.starts_with("/_matrix/client/") {
            "matrix.example.org"
        } else {
            "id.example.org"
        };
        assert_eq!(route(host, path), "verity", "{proxy}: {host}{path}");
    }
    for path in served.iter().filter(|path| !public(path)) {
        for host in ["id.example.org", "matrix.example.org"] {
            assert_ne!(
                route(host, path),
                "verity",
                "{proxy}: {host}{path} is forwarded"
            );
        }
    }
    for (host, path) in ELSEWHERE {
        assert_eq!(route(host, path), "synapse", "{proxy}: {host}{path}");
    }
    assert_eq!(
        route("example.org", "/.well-known/matrix/client"),
        "file",
        "{proxy}"
    );
    for pattern in verity_routes {
        let matcher = Regex::new(pattern).unwrap();
        assert!(
            served.iter().any(|path| matcher.is_match(path)),
            "{proxy}: the route {pattern} to Verity serves no path Verity serves"
        );
    }
}

/// One `location` of an nginx server block.
struct Location {
    modifier: String,
    pattern: String,
    target: String,
}

/// The server blocks of the guide's nginx file: (server_name, locations in order).
fn nginx_servers(conf: &str) -> Vec<(String, Vec<Location>)> {
    let mut servers: Vec<(String, Vec<Location>)> = Vec::new();
    let mut location: Option<Location> = None;
    for line in conf.lines().map(str::trim) {
        let words: Vec<&str> = line
            .trim_end_matches([';', '{'])
            .split_whitespace()
            .collect();
        match words.as_slice() {
            ["server"] => servers.push((String::new(), Vec::new())),
            ["server_name", name] => servers.last_mut().unwrap().0 = (*name).to_owned(),
            ["location", rest @ ..] => {
                let (modifier, pattern) = match rest {
                    [modifier, pattern] => ((*modifier).to_owned(), (*pattern).to_owned()),
                    [pattern] => (String::new(), (*pattern).to_owned()),
                    _ => panic!("{line}"),
                };
                location = Some(Location {
                    modifier,
                    pattern,
                    target: "none".into(),
                });
            }
            ["proxy_pass", url] => {
                location.as_mut().unwrap().target = url.trim_start_matches("http://").to_owned();
            }
            ["alias", _] => location.as_mut().unwrap().target = "file".into(),
            ["}"] => {
                if let Some(done) = location.take() {
                    servers.last_mut().unwrap().1.push(done);
                }
            }
            _ => {}
        }
    }
    servers
}

/// nginx's choice: an exact `=` match; else the longest prefix, final if `^~`; else the first
/// matching regular expression in order; else that longest prefix.
fn nginx_route(servers: &[(String, Vec<Location>)], host: &str, path: &str) -> String {
    let Some((_, locations)) = servers.iter().find(|(name, _)| name == host) else {
        return "none".into();
    };
    if let Some(exact) = locations
        .iter()
        .find(|l| l.modifier == "=" && l.pattern == path)
    {
        return exact.target.clone();
    }
    let prefix = locations
        .iter()
        .filter(|l| (l.modifier.is_empty() || l.modifier == "^~") && path.starts_with(&l.pattern))
        .max_by_key(|l| l.pattern.len());
    if let Some(prefix) = prefix.filter(|l| l.modifier == "^~") {
        return prefix.target.clone();
    }
    let regex = locations
        .iter()
        .filter(|l| l.modifier == "~")
        .find(|l| Regex::new(&l.pattern).unwrap().is_match(path));
    regex
        .or(prefix)
        .map_or_else(|| "none".into(), |l| l.target.clone())
}

#[test]
fn nginx_sends_every_public_path_to_verity_and_the_homeservers_to_synapse() {
    let servers = nginx_servers(&read("docs/deployment/nginx.conf"));
    let verity_routes: Vec<String> = servers
        .iter()
        .flat_map(|(_, locations)| locations)
        .filter(|l| l.target == "verity")
        .map(|l| match l.modifier.as_str() {
            "~" => l.pattern.clone(),
            _ => format!("^{}", regex::escape(&l.pattern)),
        })
        .collect();
    let route = |host: &str, path: &str| nginx_route(&servers, host, path);
    assert_routes("nginx", &route, &verity_routes);
}

#[test]
fn nginx_accepts_the_guides_configuration() {
    let Some(nginx) = tool("/usr/sbin/nginx", "nginx") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The certificates of the guide are certbot's; self-signed ones stand in.
    let certified = rcgen::generate_simple_self_signed(vec!["id.example.org".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let site: String = read("docs/deployment/nginx.conf")
        .lines()
        .map(|line| match line.split_whitespace().next() {
            Some("ssl_certificate") => format!("ssl_certificate {};\n", cert.display()),
            Some("ssl_certificate_key") => format!("ssl_certificate_key {};\n", key.display()),
            _ => format!("{line}\n"),
        })
        .collect();
    std::fs::write(dir.path().join("site.conf"), site).unwrap();
    let main = format!(
        "error_log stderr;\npid {0}/nginx.pid;\nevents {{}}\nhttp {{\n  include {0}/site.conf;\n}}\n",
        dir.path().display()
    );
    std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
    let output = Command::new(nginx)
        .arg("-t")
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .args(["-e", "stderr"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(!said.contains("[warn]"), "{said}");
}

/// Caddy's choice over the adapted JSON: routes in order; a route's matcher sets (any set, each
/// matcher in it); a subroute's routes, of which one per `group` runs; the first handler that
/// answers decides.
fn caddy_route(routes: &[Value], host: &str, path: &str) -> Option<String> {
    let mut groups_done = Vec::new();
    for route in routes {
        let group = route["group"].as_str();
        if group.is_some_and(|group| groups_done.contains(&group)) {
            continue;
        }
        let matches = route["match"].as_array().is_none_or(|sets| {
            sets.iter().any(|set| {
                set.as_object()
                    .unwrap()
                    .iter()
                    .all(|(kind, value)| match kind.as_str() {
                        "host" => value.as_array().unwrap().iter().any(|h| h == host),
                        "path" => value.as_array().unwrap().iter().any(|p| {
                            let p = p.as_str().unwrap();
                            p.strip_suffix('*')
                                .map_or(path == p, |prefix| path.starts_with(prefix))
                        }),
                        "path_regexp" => Regex::new(value["pattern"].as_str().unwrap())
                            .unwrap()
                            .is_match(path),
                        other => panic!("matcher {other} is not known to the test"),
                    })
            })
        });
        if !matches {
            continue;
        }
        if let Some(group) = group {
            groups_done.push(group);
        }
        for handler in route["handle"].as_array().unwrap() {
            match handler["handler"].as_str().unwrap() {
                "subroute" => {
                    if let Some(answer) =
                        caddy_route(handler["routes"].as_array().unwrap(), host, path)
                    {
                        return Some(answer);
                    }
                }
                "reverse_proxy" => {
                    let dial = handler["upstreams"][0]["dial"].as_str().unwrap();
                    return Some(match dial {
                        "127.0.0.1:8090" => "verity".into(),
                        "127.0.0.1:8008" => "synapse".into(),
                        other => other.to_owned(),
                    });
                }
                "file_server" => return Some("file".into()),
                _ => {}
            }
        }
        if route["terminal"] == true {
            return None;
        }
    }
    None
}

#[test]
fn caddy_adapts_the_guides_caddyfile_and_sends_every_public_path_to_verity() {
    let Some(caddy) = tool("/usr/bin/caddy", "caddy") else {
        return;
    };
    let output = Command::new(caddy)
        .args(["adapt", "--adapter", "caddyfile", "--config"])
        .arg(root().join("docs/deployment/Caddyfile"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(!said.contains("\"level\":\"warn\""), "{said}");
    let adapted: Value = serde_json::from_slice(&output.stdout).unwrap();
    let routes = adapted["apps"]["http"]["servers"]["srv0"]["routes"]
        .as_array()
        .unwrap()
        .clone();
    let route =
        |host: &str, path: &str| caddy_route(&routes, host, path).unwrap_or_else(|| "none".into());
    // The Caddyfile's matchers of the routes to Verity, as regular expressions.
    let caddyfile = read("docs/deployment/Caddyfile");
    let verity_routes: Vec<String> = caddyfile
        .lines()
        .map(str::trim)
        .filter_map(|line| line.strip_prefix("@verity "))
        .flat_map(|matcher| match matcher.split_once(' ') {
            Some(("path_regexp", pattern)) => vec![pattern.to_owned()],
            Some(("path", paths)) => paths
                .split_whitespace()
                .map(|p| match p.strip_suffix('*') {
                    Some(prefix) => format!("^{}", regex::escape(prefix)),
                    None => format!("^{}$", regex::escape(p)),
                })
                .collect(),
            _ => panic!("{matcher}"),
        })
        .collect();
    assert!(!verity_routes.is_empty());
    assert_routes("caddy", &route, &verity_routes);
}
