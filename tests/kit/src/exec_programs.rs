//! Programs for the `exec` store's tests, written as `sh` scripts by the adapter's tests and the
//! end-to-end suite alike.

/// ma1sd's bulk lookup over `$DB` (lines `medium<TAB>address<TAB>user ID`): `medium<TAB>address`
/// lines on stdin (none: every 3PID, the hash feed), the answer in ma1sd's JSON
/// (`{"lookup":[{"medium","address","id":{"type":"mxid","value"}}]}`), values escaped. awk reads
/// the 3PIDs as data: no shell sees them.
pub const BULK_OVER_DB: &str = r#"exec awk -F '\t' '
  function esc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return s }
  FILENAME != "-" { user[$1 "\t" $2] = $3; order[++n] = $1 "\t" $2; next }
  { asked[$1 "\t" $2] = 1; any = 1 }
  END {
    printf "{\"lookup\":["
    for (i = 1; i <= n; i++) {
      k = order[i]
      if (any && !(k in asked)) continue
      split(k, p, "\t")
      printf "%s{\"medium\":\"%s\",\"address\":\"%s\",\"id\":{\"type\":\"mxid\",\"value\":\"%s\"}}", sep, esc(p[1]), esc(p[2]), user[k]
      sep = ","
    }
    print "]}"
  }' "$DB" -"#;

/// ma1sd's login program over `$USERS` (lines `localpart<TAB>password<TAB>display name`): the
/// plain stdin (`localpart`, `domain`, `mxid`, `password`, a line each), the plain answer
/// (`true` and the display name) with exit 0, or exit 1 for a wrong password or an unknown
/// user. awk reads the values from its environment, as data: no shell sees them.
pub const LOGIN_OVER_USERS: &str = r#"IFS= read -r localpart; IFS= read -r domain; IFS= read -r mxid
IFS= read -r password
L="$localpart" P="$password" exec awk -F '\t' '
  $1 == ENVIRON["L"] && $2 == ENVIRON["P"] { printf "true\n%s\n", $3; found = 1; exit }
  END { if (!found) exit 1 }' "$USERS""#;

/// ma1sd's directory search over `$PEOPLE` (lines `user ID<TAB>display name<TAB>addresses`):
/// the search type (`name` or `threepid`) and the term as its two arguments, the people whose
/// user ID or display name (by name) or addresses (by 3PID) contain the term, ignoring ASCII
/// case, in ma1sd's JSON (`{"limited":false,"results":[{"user_id","display_name"}]}`). awk reads
/// the term from its environment as data: no shell sees it.
pub const DIRECTORY_OVER_PEOPLE: &str = r#"T="$1" Q="$2" exec awk -F '\t' '
  function esc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return s }
  BEGIN { q = tolower(ENVIRON["Q"]); printf "{\"limited\":false,\"results\":[" }
  {
    hay = (ENVIRON["T"] == "threepid") ? $3 : ($1 "\t" $2)
    if (index(tolower(hay), q)) {
      printf "%s{\"user_id\":\"%s\",\"display_name\":\"%s\"}", sep, esc($1), esc($2)
      sep = ","
    }
  }
  END { print "]}" }' "$PEOPLE""#;
