//! Hot swap: a new version of an agent in a running host, without a
//! restart, a lost message or a message handled twice.
//!
//! A deploy has two halves, on two threads:
//!
//! 1. **Prepare** ([`Preparer`], on the admin API's worker threads, off the
//!    hot path): compile the component (cached by content hash),
//!    instantiate it and run its `init` with the agent's limits, rights and
//!    config (plus any per-version overrides). A component that does not
//!    load or start is refused here, and the running version never notices.
//! 2. **Swap** ([`Deployed::swap`], on the node's thread, between two
//!    inputs — so it is one message in the agent's inbox, and everything
//!    before it was handled by the old version, everything after by the
//!    new): `old.snapshot()` → `new.restore(state)` → pending timers move
//!    over → switch. The pause is those three calls; `floor bench` measures
//!    it as `swap_pause_us`.
//!
//! Then the new version is on **probation** (`[deploy]`: a number of
//! messages and of seconds). After every message it handles on probation
//! its state is snapshotted, so when it faults (a trap, fuel, the deadline,
//! memory, a forbidden output) the host rolls back by itself: the previous
//! instance — kept instantiated — restores the last good state and handles
//! the message that faulted. No message is lost or handled twice in effect,
//! and the state the new version built is kept. A `restore` that fails
//! refuses the swap: the old version carries on untouched.
//!
//! Each agent keeps its last `keep_versions` versions; `floor rollback`
//! goes back one, to the instantiated previous one at the cost of a swap,
//! or to an older one at the cost of an instantiation as well.
//!
//! - [`artifacts`]: every version run, kept by hash for replays.
//! - [`prepare`]: loading and starting a candidate.
//! - [`versions`]: one agent's live version, history and probation.
//! - [`reaper`]: dropping what a swap sheds, off the node's thread.
//! - [`shadow`]: a candidate beside the live version, compared, never acted on.
//! - [`checkpoint`]: the last good state, so a restart after a fault loses nothing.

pub mod artifacts;
pub mod checkpoint;
pub mod prepare;
pub mod reaper;
pub mod shadow;
pub mod versions;

pub use artifacts::Artifacts;
pub use checkpoint::Recovery;
pub use prepare::{Candidate, DeployError, DeployRequest, Preparer, Trust};
pub use reaper::Reaper;
pub use shadow::{Diff, ShadowReport};
pub use versions::{Called, DeployEvent, DeployRecord, Deployed, EventKind, Version};
