//! Snapshot encoding: JSON through serde, so a new version of an agent can
//! read an old version's state as long as the field names still match
//! (add `#[serde(default)]` to new fields).

use crate::{Error, types::error};
use serde::{Serialize, de::DeserializeOwned};

/// Encode `state` for [`crate::Agent::snapshot`].
pub fn save<T: Serialize>(state: &T) -> Vec<u8> {
    // Serialising plain structs of numbers and strings cannot fail.
    serde_json::to_vec(state).unwrap_or_default()
}

/// Decode bytes written by [`save`].
///
/// # Errors
/// `bad_snapshot` with the decoder's message.
pub fn load<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes)
        .map_err(|e| error("bad_snapshot", format!("cannot read snapshot: {e}")))
}

/// Implement [`crate::Agent::snapshot`] and [`crate::Agent::restore`] with
/// [`save`] and [`load`] for an agent type that derives `Serialize` and
/// `Deserialize`: write `floor_sdk::serde_snapshot!();` inside `impl Agent`.
#[macro_export]
macro_rules! serde_snapshot {
    () => {
        fn snapshot(&self) -> ::std::vec::Vec<u8> {
            $crate::state::save(self)
        }

        fn restore(&mut self, bytes: &[u8]) -> ::std::result::Result<(), $crate::Error> {
            *self = $crate::state::load(bytes)?;
            ::std::result::Result::Ok(())
        }
    };
}
