//! Queueing the pending invites of addresses that are bound already. A bind stores its binding
//! first and queues the pending invites of its address after (`on_bind`): a crash between the
//! two (SIGKILL, power loss) left a bound address whose invites would wait, undelivered, until
//! they expire. Run at start, this finishes such binds. It also delivers an invite stored while
//! its address was being bound (store-invite checked the address just before the bind), and one
//! imported for an address already bound here, which are the same state.
use verity_domain::InviteToken;

use super::super::backends::OnFailure;
use super::InviteService;
use crate::ports::driving::InviteError;

/// Pending invites read per page.
const PAGE: u32 = 100;

impl InviteService {
    /// Walks every pending (unbound, live) invite; for each whose address the identity backends
    /// find bound, signs and queues the invites of that address for the bound user, as a bind
    /// does. Returns how many invites were queued. A backend that fails is skipped (its
    /// addresses are looked at again at the next start).
    ///
    /// # Errors
    /// A store or signing failure; what was queued before it stays queued.
    pub async fn queue_invites_of_bound_addresses(&self) -> Result<usize, InviteError> {
        let mut queued = 0;
        let mut after: Option<InviteToken> = None;
        loop {
            let now = self.deps.clock.now();
            let page = self
                .deps
                .store
                .unbound_page(now, after.take(), PAGE)
                .await?;
            let Some(last) = page.last().map(|invite| invite.token.clone()) else {
                break;
            };
            for invite in page {
                if let Some(mxid) = self
                    .deps
                    .backends
                    .lookup(&invite.threepid, OnFailure::Skip)
                    .await?
                {
                    // Queues every pending invite of the address; later ones of the same
                    // address on this page are then bound and skipped by the store.
                    queued += self.on_bind(&invite.threepid, &mxid).await?.len();
                }
            }
            after = Some(last);
        }
        if queued > 0 {
            tracing::warn!(
                queued,
                "pending invites of addresses bound already were queued for delivery (a bind \
                 cut short, e.g. by a crash, or an invite stored while its address was bound)"
            );
        }
        Ok(queued)
    }
}
