//! Verity with a real Synapse (the version `scripts/test` installs), driven through Synapse's
//! client API as Element drives it: phone validation delegated to Verity, registration with an
//! OpenID token, homeserver-mediated bind and signed unbind, a 3PID room invite that ends with
//! the invitee in the room, registration control and the invite policy.
//!
//! Synapse starts once for all of it (a few seconds of a two-core machine), so the scenarios are
//! steps of one test, each named by what it shows. Every step runs even when an earlier one
//! failed (each uses its own users and addresses), and the test fails naming every failed step.
//!
//! Without `VERITY_TEST_SYNAPSE` the test passes without running (with a note), except under CI,
//! where it fails: see `verity_testkit::synapse::python`.
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

mod directory;
mod invite_policy;
mod invites;
mod login;
mod matrix;
mod phone;
mod registration;
mod threepids;
mod world;

use world::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn element_flows_through_a_real_synapse_work_with_verity() {
    let Some(python) = verity_testkit::synapse::python() else {
        return;
    };
    let began = Instant::now();
    let world = Arc::new(World::start(&python).await);
    eprintln!(
        "Synapse answered /_matrix/client/versions {:.2} s after it was spawned",
        world.synapse.startup().as_secs_f64()
    );
    let mut failed = Vec::new();
    step(
        &mut failed,
        "a phone number is validated by Verity for Synapse, and a mistyped code is told as such",
        phone::a_phone_number_is_validated_by_verity_for_synapse(world.clone()),
    )
    .await;
    step(
        &mut failed,
        "a Synapse user registers with Verity through an OpenID token and accepts the terms",
        threepids::a_synapse_user_registers_with_verity_through_an_openid_token(world.clone()),
    )
    .await;
    step(
        &mut failed,
        "an email validated with Verity is bound through Synapse and found by a lookup",
        threepids::an_email_validated_with_verity_is_bound_through_synapse_and_found(world.clone()),
    )
    .await;
    step(
        &mut failed,
        "an email unbound through Synapse, which signs the request, is no longer found",
        threepids::an_email_unbound_through_synapse_is_no_longer_found(world.clone()),
    )
    .await;
    step(
        &mut failed,
        "an email invited into a room joins it once its owner binds it through Synapse",
        invites::an_invited_email_joins_the_room_once_its_owner_binds_it(world.clone()),
    )
    .await;
    step(
        &mut failed,
        "registration control lets an allowed phone number register through Synapse and refuses another",
        registration::a_number_the_policy_allows_registers_through_synapse_and_another_is_refused(
            world.clone(),
        ),
    )
    .await;
    step(
        &mut failed,
        "staff invite by email through Verity's invite policy, and a user without the role cannot",
        invite_policy::staff_invite_by_email_through_verity_and_a_user_without_the_role_cannot(
            world.clone(),
        ),
    )
    .await;
    eprintln!(
        "the Synapse steps took {:.2} s in all (start-up included)",
        began.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "failed steps:\n- {}\n(set TEST_LOG=1 for Verity's log; Synapse's log is printed with \
         each failure)",
        failed.join("\n- ")
    );
}

/// Runs one named step in its own task, so that a failing step is reported and the next runs.
async fn step(
    failed: &mut Vec<String>,
    name: &str,
    body: impl Future<Output = ()> + Send + 'static,
) {
    let began = Instant::now();
    let outcome = tokio::spawn(body).await;
    let took = began.elapsed().as_secs_f64();
    match outcome {
        Ok(()) => eprintln!("ok      {name} ({took:.2} s)"),
        Err(error) => {
            eprintln!("FAILED  {name} ({took:.2} s): {error}");
            failed.push(name.to_owned());
        }
    }
}
