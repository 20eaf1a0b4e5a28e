//! One cursor codec for every list: where a page ended, as a versioned
//! JSON array in URL-safe base64. Clients treat it as opaque; one that does
//! not decode, or comes from another version, is a 400.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::AppError;

/// The cursor format: bumped when any list's position changes shape, so a
/// cursor from before is refused rather than misread.
const VERSION: u8 = 2;

/// The opaque text of `position`.
pub fn encode<T: Serialize>(position: &T) -> String {
    let json = serde_json::to_string(&(VERSION, position)).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The position [`encode`] made `text` of.
pub fn decode<T: DeserializeOwned>(text: &str) -> Result<T, AppError> {
    let invalid = || AppError::InvalidRequest("the cursor is not valid".to_owned());
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let (version, position): (u8, T) = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if version != VERSION {
        return Err(invalid());
    }
    Ok(position)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_garbage_is_refused() {
        let position = (7_i64, "WS-0042".to_owned());
        assert_eq!(
            decode::<(i64, String)>(&encode(&position)).unwrap(),
            position
        );
        for bad in [
            "",
            "!!",
            "djE6MTox",
            &URL_SAFE_NO_PAD.encode("[1,[7,\"WS-0042\"]]"),
            &URL_SAFE_NO_PAD.encode("[2,[\"seven\",\"WS-0042\"]]"),
        ] {
            assert!(decode::<(i64, String)>(bad).is_err(), "{bad:?} decoded");
        }
    }
}
