//! Each `verity admin` command: the use case it calls and what it prints.
use std::fmt::Write as _;

use anyhow::Context as _;
use verity_application::ports::driven::{Binding, StoredBinding};
use verity_application::ports::driving::{
    Actor, Admin as _, Association as _, InviteStatus, InviteView, KeyInfo,
};
use verity_domain::InviteToken;

use super::cli::Subject;
use super::cli::{AdminCommand, BindingsCommand, InvitesCommand, KeysCommand, PepperCommand};
use crate::settings::Settings;
use crate::wiring::admin::{admin_service, association_service};

/// Runs `command`; returns what it prints on stdout.
pub(super) async fn execute(
    command: AdminCommand,
    settings: &Settings,
    actor: &Actor,
) -> anyhow::Result<String> {
    let store = crate::startup::open_store(&settings.storage).await?;
    let result = match command {
        AdminCommand::Bindings(command) => bindings(command, settings, &store, actor).await,
        AdminCommand::Invites(command) => invites(command, settings, &store, actor).await,
        AdminCommand::Pepper(command) => pepper(command, settings, &store, actor).await,
        AdminCommand::Keys(command) => keys(command, settings, &store, actor).await,
    };
    let closed = store.close().await;
    let output = result?;
    closed?;
    Ok(output)
}

fn describe(subject: &Subject) -> String {
    match subject {
        Subject::User(user) => user.to_string(),
        Subject::ThreePid(threepid) => format!("{} {}", threepid.medium(), threepid.address()),
    }
}

/// `email alice@example.org -> @alice:example.org`
fn line(binding: &Binding) -> String {
    format!(
        "{} {} -> {}",
        binding.threepid.medium(),
        binding.threepid.address(),
        binding.user_id
    )
}

async fn bindings(
    command: BindingsCommand,
    settings: &Settings,
    store: &verity_adapter_sql::SqlStore,
    actor: &Actor,
) -> anyhow::Result<String> {
    anyhow::ensure!(
        settings.lookups.bindings,
        "Verity's binding store is off (bindings.enabled: false): it keeps no bindings"
    );
    let admin = admin_service(settings, store)?;
    let (BindingsCommand::List(target)
    | BindingsCommand::Show(target)
    | BindingsCommand::Remove(target)) = &command;
    let subject = target.target.clone();
    let found: Vec<StoredBinding> = match &subject {
        Subject::User(user) => admin.bindings_of(user).await?,
        Subject::ThreePid(threepid) => admin.binding(threepid).await?.into_iter().collect(),
    };
    let mut out = String::new();
    match command {
        BindingsCommand::List(_) => {
            for stored in &found {
                let _ = writeln!(out, "{}  bound {}", line(&stored.binding), stored.bound_at);
            }
        }
        BindingsCommand::Show(_) => {
            if found.is_empty() {
                let _ = writeln!(out, "nothing is bound to {}", describe(&subject));
            }
            for stored in &found {
                let _ = writeln!(
                    out,
                    "medium:   {}\naddress:  {}\nmxid:     {}\nbound at: {}\norigin:   {}\n",
                    stored.binding.threepid.medium(),
                    stored.binding.threepid.address(),
                    stored.binding.user_id,
                    stored.bound_at,
                    if stored.imported {
                        "imported (served with the signed association it was imported with)"
                    } else {
                        "bound here"
                    }
                );
            }
        }
        BindingsCommand::Remove(_) => {
            if found.is_empty() {
                let _ = writeln!(
                    out,
                    "nothing is bound to {}: nothing removed",
                    describe(&subject)
                );
            }
            let association = association_service(settings, store).await?;
            for stored in found {
                let removed = association
                    .unbind_vouched(stored.binding.clone(), actor)
                    .await
                    .with_context(|| format!("removing {}", line(&stored.binding)))?;
                let what = if removed {
                    "removed"
                } else {
                    "already gone (changed meanwhile)"
                };
                let _ = writeln!(out, "{what}: {} (by {actor})", line(&stored.binding));
            }
        }
    }
    Ok(out)
}

fn token(raw: &str) -> anyhow::Result<InviteToken> {
    InviteToken::parse(raw.trim()).map_err(|_| anyhow::anyhow!("{raw:?} is not an invite token"))
}

/// `due (2 failed, next 2026-12-07T19:00:00Z)`
fn status(status: InviteStatus) -> String {
    match status {
        InviteStatus::Due {
            attempts,
            next_attempt,
        } => format!("due ({attempts} failed, next {next_attempt})"),
        other => other.name().to_owned(),
    }
}

fn invite_line(view: &InviteView) -> String {
    let invite = &view.invite;
    format!(
        "{}  {}  {} {}  room {}  from {}",
        invite.token.as_str(),
        view.status.name(),
        invite.threepid.medium(),
        invite.threepid.address(),
        invite.room_id,
        invite.sender
    )
}

fn invite_details(view: &InviteView) -> String {
    let invite = &view.invite;
    let mut out = format!(
        "token:      {}\nstatus:     {}\nmedium:     {}\naddress:    {}\nroom:       {}\nsender:     {}\ncreated:    {}\nexpires:    {}\n",
        invite.token.as_str(),
        status(view.status),
        invite.threepid.medium(),
        invite.threepid.address(),
        invite.room_id,
        invite.sender,
        invite.created_at,
        invite
            .expires_at
            .map_or_else(|| "never".to_owned(), |at| at.to_string()),
    );
    if let Some(delivery) = &invite.delivery {
        let _ = writeln!(out, "bound to:   {}", delivery.mxid);
    }
    if let Some(key) = &invite.ephemeral_key {
        let _ = writeln!(out, "ephemeral:  {}", key.to_base64());
    }
    out
}

async fn invites(
    command: InvitesCommand,
    settings: &Settings,
    store: &verity_adapter_sql::SqlStore,
    actor: &Actor,
) -> anyhow::Result<String> {
    let admin = admin_service(settings, store)?;
    let mut out = String::new();
    match command {
        InvitesCommand::List { status } => {
            const NAMES: [&str; 5] = ["pending", "due", "delivered", "abandoned", "expired"];
            if let Some(wanted) = &status {
                anyhow::ensure!(
                    NAMES.contains(&wanted.as_str()),
                    "--status {wanted:?}: one of {}",
                    NAMES.join(", ")
                );
            }
            let all = admin.invites().await?;
            let shown: Vec<&InviteView> = all
                .iter()
                .filter(|view| status.as_deref().is_none_or(|s| s == view.status.name()))
                .collect();
            for view in &shown {
                let _ = writeln!(out, "{}", invite_line(view));
            }
            let _ = writeln!(out, "{} invite(s)", shown.len());
        }
        InvitesCommand::Show { token: raw } => {
            out = invite_details(&admin.invite(&token(&raw)?).await?);
        }
        InvitesCommand::Expire { token: raw } => {
            let view = admin.expire_invite(&token(&raw)?, actor).await?;
            let _ = writeln!(out, "expired: {} (by {actor})", invite_line(&view));
        }
        InvitesCommand::Retry { token: raw } => {
            let view = admin.retry_invite(&token(&raw)?, actor).await?;
            let _ = writeln!(out, "delivery due now: {} (by {actor})", invite_line(&view));
        }
    }
    Ok(out)
}

async fn pepper(
    command: PepperCommand,
    settings: &Settings,
    store: &verity_adapter_sql::SqlStore,
    actor: &Actor,
) -> anyhow::Result<String> {
    let mut out = String::new();
    match command {
        PepperCommand::Show => {
            use verity_application::ports::driven::HashStore as _;
            match store.hash_store().published().await? {
                Some(table) => {
                    let _ = writeln!(
                        out,
                        "pepper {}  generation {}",
                        table.pepper.as_str(),
                        table.generation
                    );
                }
                None => {
                    let _ = writeln!(out, "no pepper published yet (made at the first start)");
                }
            }
        }
        PepperCommand::Rotate => {
            let rotation = admin_service(settings, store)?.rotate_pepper(actor).await?;
            let _ = writeln!(
                out,
                "pepper rotated: {} -> {}  generation {} (by {actor}); running servers follow within a second plus the time to build its table",
                rotation.previous.as_ref().map_or("(none)", |p| p.as_str()),
                rotation.pepper.as_str(),
                rotation.generation
            );
        }
    }
    Ok(out)
}

fn key_line(key: &KeyInfo) -> String {
    format!(
        "{}  {}  {}{}",
        key.id,
        key.public_key.to_base64(),
        if key.valid { "valid" } else { "invalid" },
        if key.current { "  signing" } else { "" }
    )
}

async fn keys(
    command: KeysCommand,
    settings: &Settings,
    store: &verity_adapter_sql::SqlStore,
    actor: &Actor,
) -> anyhow::Result<String> {
    let admin = admin_service(settings, store)?;
    let mut out = String::new();
    match command {
        KeysCommand::List => {
            for key in admin.keys().await? {
                let _ = writeln!(out, "{}", key_line(&key));
            }
        }
        KeysCommand::New => {
            let key = admin.new_signing_key(actor).await?;
            let _ = writeln!(
                out,
                "new signing key: {} (by {actor}); restart every running server to sign with it (the other keys stay valid)",
                key_line(&key)
            );
        }
    }
    Ok(out)
}
