//! Binance's request signing: `X-MBX-APIKEY` names the key, `signature`
//! is HMAC-SHA256 (hex) or Ed25519 (base64) over the query string
//! concatenated with the body (without the `signature` pair itself), and
//! `timestamp` must fall inside `recvWindow` of the server's clock.

use base64::Engine as _;
use ed25519_dalek::pkcs8::DecodePublicKey;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::super::error::ApiError;
use super::params::Params;

/// How a key's requests are signed.
#[derive(Clone)]
pub enum Secret {
    /// HMAC-SHA256 with this shared secret.
    Hmac(Vec<u8>),
    /// Ed25519, verified with this public key.
    Ed25519(VerifyingKey),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Hmac(_) => f.write_str("Hmac(..)"),
            Secret::Ed25519(k) => write!(f, "Ed25519({})", hex::encode(k.as_bytes())),
        }
    }
}

impl Secret {
    /// An Ed25519 public key from its PEM (`-----BEGIN PUBLIC KEY-----`),
    /// as Binance asks users to register it.
    ///
    /// # Errors
    /// When the PEM is not an Ed25519 public key.
    pub fn ed25519_pem(pem: &str) -> Result<Secret, String> {
        VerifyingKey::from_public_key_pem(pem)
            .map(Secret::Ed25519)
            .map_err(|e| format!("not an Ed25519 public key in PEM form: {e}"))
    }
}

/// An API key and the account it trades for.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// The key clients send in `X-MBX-APIKEY`.
    pub key: String,
    /// How its requests are signed.
    pub secret: Secret,
    /// The exchange account.
    pub account: u32,
}

/// Largest `recvWindow` Binance accepts, ms.
pub const MAX_RECV_WINDOW_MS: u64 = 60_000;
/// `recvWindow` when none is sent, ms.
pub const DEFAULT_RECV_WINDOW_MS: u64 = 5_000;

/// The signed payload: `query` then `body`, each without its `signature`
/// pair, concatenated as Binance defines `totalParams`.
pub fn signed_payload(query: &str, body: &str) -> String {
    let strip = |s: &str| -> String {
        s.split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("signature="))
            .collect::<Vec<_>>()
            .join("&")
    };
    let mut out = strip(query);
    out.push_str(&strip(body));
    out
}

/// HMAC-SHA256 of `payload` in lower-case hex (what a client sends).
pub fn hmac_hex(secret: &[u8], payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Check a request's signature and timestamp for `key`.
///
/// # Errors
/// -1102 without `signature` or `timestamp`; -1022 when the signature does
/// not verify; -1131 for a `recvWindow` over 60 s; -1021 when the
/// timestamp is outside the window.
pub fn check(key: &ApiKey, params: &Params, payload: &str, server_ms: u64) -> Result<(), ApiError> {
    let signature = params.required("signature")?;
    let ok = match &key.secret {
        Secret::Hmac(secret) => {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
            mac.update(payload.as_bytes());
            hex::decode(signature).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
        }
        Secret::Ed25519(public) => base64::engine::general_purpose::STANDARD
            .decode(signature)
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .is_some_and(|sig| public.verify(payload.as_bytes(), &sig).is_ok()),
    };
    if !ok {
        return Err(ApiError::bad_signature());
    }
    let timestamp: u64 = params
        .int("timestamp")?
        .ok_or_else(|| ApiError::missing("timestamp"))?;
    let window: u64 = params.int("recvWindow")?.unwrap_or(DEFAULT_RECV_WINDOW_MS);
    if window > MAX_RECV_WINDOW_MS {
        return Err(ApiError::new(-1131, "recvWindow must be less than 60000"));
    }
    if timestamp > server_ms + 1_000 || server_ms.saturating_sub(timestamp) > window {
        return Err(ApiError::timestamp_outside_window());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example from Binance's documentation of signed endpoints.
    #[test]
    fn binance_documented_hmac_example() {
        let secret = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let payload = signed_payload(
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=x",
            "",
        );
        assert_eq!(
            hmac_hex(secret, &payload),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    #[test]
    fn query_and_body_are_concatenated_without_the_signature() {
        assert_eq!(signed_payload("a=1&signature=zz", "b=2&c=3"), "a=1b=2&c=3");
        assert_eq!(signed_payload("", "b=2&signature=zz"), "b=2");
    }

    #[test]
    fn signatures_and_windows_are_checked() {
        let key = ApiKey {
            key: "k".into(),
            secret: Secret::Hmac(b"s".to_vec()),
            account: 0,
        };
        let payload = "symbol=X&timestamp=10000";
        let good = hmac_hex(b"s", payload);
        let params = |sig: &str, extra: &str| {
            Params::parse(&format!("{payload}{extra}&signature={sig}"), "").unwrap()
        };
        assert!(check(&key, &params(&good, ""), payload, 10_500).is_ok());
        assert_eq!(
            check(&key, &params("00ff", ""), payload, 10_500)
                .unwrap_err()
                .code,
            -1022
        );
        assert_eq!(
            check(&key, &params(&good, ""), payload, 16_000)
                .unwrap_err()
                .code,
            -1021
        );
        assert_eq!(
            check(&key, &params(&good, ""), payload, 8_000)
                .unwrap_err()
                .code,
            -1021
        );
        let with_window = format!("{payload}&recvWindow=70000");
        let sig = hmac_hex(b"s", &with_window);
        let p = Params::parse(&format!("{with_window}&signature={sig}"), "").unwrap();
        assert_eq!(
            check(&key, &p, &with_window, 10_500).unwrap_err().code,
            -1131
        );
    }

    #[test]
    fn ed25519_signatures_verify() {
        use ed25519_dalek::Signer;
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let key = ApiKey {
            key: "k".into(),
            secret: Secret::Ed25519(signing.verifying_key()),
            account: 0,
        };
        let payload = "symbol=X&timestamp=10000";
        let sig = base64::engine::general_purpose::STANDARD
            .encode(signing.sign(payload.as_bytes()).to_bytes());
        let query = format!(
            "{payload}&signature={}",
            sig.replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        );
        let p = Params::parse(&query, "").unwrap();
        assert!(check(&key, &p, &signed_payload(&query, ""), 10_000).is_ok());
        let other = ed25519_dalek::SigningKey::from_bytes(&[8u8; 32]);
        let key2 = ApiKey {
            secret: Secret::Ed25519(other.verifying_key()),
            ..key
        };
        assert_eq!(
            check(&key2, &p, &signed_payload(&query, ""), 10_000)
                .unwrap_err()
                .code,
            -1022
        );
    }
}
