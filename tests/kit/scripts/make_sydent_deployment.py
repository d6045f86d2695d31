"""Makes a Sydent 2.6.1 deployment in a directory, with Sydent's own code, for Verity's import tests.

Usage: python make_sydent_deployment.py <directory> [--server-name NAME]

Run by the python of a virtualenv with `matrix-sydent==2.6.1` installed (scripts/test makes one).
It writes, in <directory>:

- `sydent.conf`: the INI file Sydent reads. We write the sections an operator writes (server name,
  database path, email and sms settings, terms); Sydent itself generates the `ed25519.signingkey`
  (key id `ed25519:0`) and saves the file back with every default filled in, as it does on a
  deployment's first start;
- `terms.yaml`: the terms of service the accounts accepted;
- `sydent.db`: the SQLite database, created and migrated by Sydent (schema version 5) and filled
  through Sydent's own code paths: `ThreepidBinder.addBinding` (so every `sgAssoc` is signed by
  Sydent's signer and copied to the global table by its local push), `ThreepidBinder.removeBinding`
  (an unbound address: its local row keeps a NULL mxid), a re-bind to another user, `issueToken`
  (accounts and their tokens), `TermsStore`/`AccountStore` as the terms servlet uses them, and
  third-party invites with their ephemeral keys as the store-invite servlet stores them: one
  delivered by a bind (which makes Sydent add a stale `invites` field to the associations it signs
  afterwards, see DELIVERED_INVITE), one pending.

Nothing touches the network: Sydent runs on Twisted's in-memory reactor, which never runs, so the
bind callbacks to homeservers and the replication pushes are never sent, nothing listens and no SMTP
server is contacted.

It prints one JSON object on stdout (what Sydent made, read back with Sydent's own stores); Sydent's
own messages go to stderr.
"""

import argparse
import contextlib
import json
import os
import sys
import time

SYDENT_VERSION = "2.6.1"

TERMS_YAML = """\
master_version: "2024-01"
docs:
  privacy_policy:
    version: "2.0"
    langs:
      en:
        name: "Privacy Policy"
        url: "https://sydent.example/terms/privacy-2.0-en.html"
      fr:
        name: "Politique de confidentialite"
        url: "https://sydent.example/terms/privacy-2.0-fr.html"
  terms_of_service:
    version: "1.1"
    langs:
      en:
        name: "Terms of Service"
        url: "https://sydent.example/terms/tos-1.1-en.html"
"""

# (medium, address as the client sent it, mxid). Emails are casefolded by Sydent.
BINDINGS = [
    ("email", "alice@example.org", "@alice:example.org"),
    ("email", "Bob.Smith@Example.ORG", "@bob:example.org"),
    ("msisdn", "447700900123", "@alice:example.org"),
    ("msisdn", "33612345678", "@carol:other.example"),
    ("email", "carol@other.example", "@carol:other.example"),
    # Unbound below through Sydent's removal path.
    ("email", "gone@example.org", "@dave:example.org"),
    # Re-bound below to another user: the global table then holds two rows for it.
    ("email", "shared@example.org", "@erin:example.org"),
]
UNBIND = ("email", "gone@example.org", "@dave:example.org")
REBIND = ("email", "shared@example.org", "@frank:example.org")

# Users who register with the identity server (v2 accounts), and what they accept.
ACCOUNTS = ["@alice:example.org", "@bob:example.org", "@carol:other.example"]
SECOND_TOKEN = "@alice:example.org"  # alice registered from two devices
ACCEPTS = {
    # every document: consent_version becomes the master version
    "@alice:example.org": [
        "https://sydent.example/terms/privacy-2.0-en.html",
        "https://sydent.example/terms/tos-1.1-en.html",
    ],
    # one of two documents: consent_version stays NULL
    "@bob:example.org": ["https://sydent.example/terms/privacy-2.0-fr.html"],
}

# A third-party invite whose address is then bound: Sydent hands the invite to the homeserver in
# the bind's answer and marks it sent. Sydent 2.6.1 keeps that `invites` list in a dict shared by
# every later association of the process (`ThreepidAssociation.extra_fields` defaults to one `{}`),
# so every association it signs afterwards carries this stale `invites` field, in the stored
# `sgAssoc` too. Real deployments have such rows; so does this one.
DELIVERED_INVITE = {
    "medium": "email",
    "address": "invited@example.org",
    "room_id": "!earlier:example.org",
    "sender": "@bob:example.org",
}
DELIVERED_INVITE_MXID = "@grace:example.org"

# A pending third-party invite (its address is never bound here), for the invite import.
INVITE = {
    "medium": "email",
    "address": "Invited.Person@Example.org",
    "room_id": "!room:example.org",
    "sender": "@alice:example.org",
}


def write_conf(directory, server_name):
    conf = os.path.join(directory, "sydent.conf")
    with open(os.path.join(directory, "terms.yaml"), "w") as fp:
        fp.write(TERMS_YAML)
    with open(conf, "w") as fp:
        fp.write(
            f"""[general]
server.name = {server_name}
log.level = WARNING
pidfile.path = {os.path.join(directory, "sydent.pid")}
terms.path = {os.path.join(directory, "terms.yaml")}
templates.path = {os.path.join(directory, "res")}
brand.default = matrix-org

[db]
db.file = {os.path.join(directory, "sydent.db")}

[http]
clientapi.http.bind_address = 127.0.0.1
clientapi.http.port = 8090
client_http_base = https://{server_name}
replication.https.bind_address = 127.0.0.1

[email]
email.from = Sydent Validation <noreply@{server_name}>
email.subject = Your Validation Token
email.smtphost = 127.0.0.1
email.smtpport = 2525
email.smtpusername = sydent
email.smtppassword = not-a-real-password
email.tlsmode = 0
email.hostname = {server_name}
email.default_web_client_location = https://app.example.org

[sms]
bodyTemplate = Your code is {{token}}
username = sms-user
password = not-a-real-sms-password
originators.44 = long:447700900000

[crypto]
"""
        )
    return conf


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--server-name", default="sydent.example")
    args = parser.parse_args()
    directory = os.path.abspath(args.directory)
    os.makedirs(os.path.join(directory, "res", "matrix-org"), exist_ok=True)

    # Sydent and its config print on stdout; stdout is ours for the summary.
    with contextlib.redirect_stdout(sys.stderr):
        summary = make(directory, args.server_name)
    json.dump(summary, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


def make(directory, server_name):
    import nacl.signing
    import signedjson.key
    from twisted.internet.testing import MemoryReactorClock
    from unpaddedbase64 import encode_base64

    from sydent.config import SydentConfig
    from sydent.db.accounts import AccountStore
    from sydent.db.hashing_metadata import HashingMetadataStore
    from sydent.db.invite_tokens import JoinTokenStore
    from sydent.db.terms import TermsStore
    from sydent.db.threepid_associations import GlobalAssociationStore
    from sydent.sydent import Sydent
    from sydent.terms.terms import get_terms
    from sydent.users.tokens import issueToken
    from sydent.util.stringutils import normalise_address
    from sydent.util.tokenutils import generateAlphanumericTokenOfLength

    conf = write_conf(directory, server_name)
    config = SydentConfig()
    # Generates the signing key and saves the file back, as Sydent's first start does.
    config.parse_config_file(conf)
    reactor = MemoryReactorClock()
    sydent = Sydent(config, reactor=reactor, use_tls_for_federation=False)

    def store_invite(invite):
        # As StoreInviteServlet stores a third-party invite (its e-mail is never sent here).
        ephemeral = nacl.signing.SigningKey.generate()
        ephemeral_public = encode_base64(ephemeral.verify_key.encode(), True)
        store = JoinTokenStore(sydent)
        store.storeEphemeralPublicKey(ephemeral_public)
        address = normalise_address(invite["address"], invite["medium"])
        token = generateAlphanumericTokenOfLength(128)
        store.storeToken(invite["medium"], address, invite["room_id"], invite["sender"], token)
        return ephemeral_public

    binder = sydent.threepidBinder
    ephemeral_keys = [store_invite(DELIVERED_INVITE)]
    for medium, address, mxid in BINDINGS[:5]:
        binder.addBinding(medium, address, mxid)
        time.sleep(0.002)  # distinct `ts` for each bind
    binder.addBinding(DELIVERED_INVITE["medium"], DELIVERED_INVITE["address"], DELIVERED_INVITE_MXID)
    for medium, address, mxid in BINDINGS[5:]:
        time.sleep(0.002)
        binder.addBinding(medium, address, mxid)
    binder.removeBinding({"medium": UNBIND[0], "address": UNBIND[1]}, UNBIND[2])
    time.sleep(0.002)
    binder.addBinding(*REBIND)

    tokens = {}
    for user in ACCOUNTS:
        tokens.setdefault(user, []).append(issueToken(sydent, user))
    tokens[SECOND_TOKEN].append(issueToken(sydent, SECOND_TOKEN))

    # As TermsServlet.render_POST records an acceptance.
    terms = get_terms(sydent)
    for user, urls in ACCEPTS.items():
        assert not set(urls) - terms.getUrlSet(), urls
        TermsStore(sydent).addAgreedUrls(user, urls)
        if terms.urlListIsSufficient(TermsStore(sydent).getAgreedUrls(user)):
            AccountStore(sydent).setConsentVersion(user, terms.getMasterVersion())

    ephemeral_keys.append(store_invite(INVITE))

    key = config.crypto.signing_key
    globals_ = GlobalAssociationStore(sydent)
    db = sydent.db
    bindings = []
    rows = db.execute(
        "SELECT id, medium, address, mxid, ts, notBefore, notAfter FROM local_threepid_associations ORDER BY id"
    ).fetchall()
    for local_id, medium, address, mxid, ts, not_before, not_after in rows:
        bindings.append(
            {
                "local_id": local_id,
                "medium": medium,
                "address": address,
                "mxid": mxid,
                "ts": ts,
                "not_before": not_before,
                "not_after": not_after,
                # What Sydent's v1 lookup serves, verbatim (None once unbound).
                "sg_assoc": globals_.signedAssociationStringForThreepid(medium, address),
            }
        )
    accounts = []
    for user, created_ts, consent_version in db.execute(
        "SELECT user_id, created_ts, consent_version FROM accounts ORDER BY user_id"
    ):
        accounts.append(
            {
                "user_id": user,
                "created_ts": created_ts,
                "consent_version": consent_version,
                "tokens": tokens[user],
            }
        )
    accepted = [
        {"user_id": user, "urls": sorted(TermsStore(sydent).getAgreedUrls(user))}
        for user in sorted(ACCEPTS)
    ]
    invites = [
        {
            "medium": medium,
            "address": address,
            "room_id": room_id,
            "sender": sender,
            "token": token,
            "received_ts": received_ts,
            "sent_ts": sent_ts,
        }
        for medium, address, room_id, sender, token, received_ts, sent_ts in db.execute(
            "SELECT medium, address, room_id, sender, token, received_ts, sent_ts"
            " FROM invite_tokens ORDER BY id"
        )
    ]
    global_rows = [
        {
            "medium": medium,
            "address": address,
            "mxid": mxid,
            "ts": ts,
            "origin_server": origin_server,
            "origin_id": origin_id,
        }
        for medium, address, mxid, ts, origin_server, origin_id in db.execute(
            "SELECT medium, address, mxid, ts, originServer, originId"
            " FROM global_threepid_associations ORDER BY id"
        )
    ]
    # The in-memory reactor records what Sydent would have opened; it must be nothing.
    opened = reactor.tcpServers + reactor.sslServers + reactor.tcpClients + reactor.sslClients
    assert not opened, f"Sydent tried to open connections: {opened}"
    schema_version = db.execute("PRAGMA user_version").fetchone()[0]
    pepper = HashingMetadataStore(sydent).get_lookup_pepper()
    db.close()
    return {
        "sydent_version": SYDENT_VERSION,
        "server_name": config.general.server_name,
        "conf_path": conf,
        "db_path": config.database.database_path,
        "terms_path": config.general.terms_path,
        "schema_version": schema_version,
        "signing_key": {
            "id": f"{key.alg}:{key.version}",
            "public_key": signedjson.key.encode_verify_key_base64(key.verify_key),
        },
        "lookup_pepper": pepper,
        "bindings": bindings,
        "global_associations": global_rows,
        "accounts": accounts,
        "accepted_terms": accepted,
        "terms_master_version": terms.getMasterVersion(),
        "invites": invites,
        "ephemeral_public_keys": ephemeral_keys,
    }


if __name__ == "__main__":
    main()
