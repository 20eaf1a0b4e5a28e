//! Credentials: app registrations, client secrets (argon2) and access tokens.

mod caller;
pub(crate) mod routes;

pub use caller::Caller;
pub use routes::router;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};

/// Seconds an access token lives.
pub const TOKEN_LIFETIME_SECS: u64 = 3600;

/// Hashes a client secret into an argon2id PHC string.
pub fn hash_secret(secret: &str) -> Result<String, String> {
    hash_with(&Argon2::default(), secret)
}

/// Hashes `secret` with `argon2` and a new random salt, as a PHC string.
fn hash_with(argon2: &Argon2, secret: &str) -> Result<String, String> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    argon2
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// Hashes a secret the server made itself ([`new_client_secret`]: about 238
/// random bits) into an argon2id PHC string at argon2's lightest cost.
///
/// A password hash's cost makes each guess of a *guessable* secret dear;
/// no number of guesses reaches 238 random bits, whatever each costs. So
/// the Demo Site, whose secrets are made afresh on every start, does not
/// spend argon2's default cost (tens of ms of CPU per secret) while the
/// desktop app starts beside it. [`verify_secret`] reads the cost from the
/// hash, so it checks these as any other.
pub fn hash_random_secret(secret: &str) -> Result<String, String> {
    let params = argon2::Params::new(
        argon2::Params::MIN_M_COST,
        argon2::Params::MIN_T_COST,
        argon2::Params::MIN_P_COST,
        None,
    )
    .map_err(|e| e.to_string())?;
    let light = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    hash_with(&light, secret)
}

/// True if and only if `secret` matches the PHC string `hash`.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new random access token (256 bits, URL-safe).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a token: its SHA-256, never the token.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A new client id: 20 characters of `[A-Za-z0-9]`.
pub fn new_client_id() -> String {
    random_alphanumeric(20)
}

/// A new client secret: 40 characters of `[A-Za-z0-9]` (about 238 bits).
pub fn new_client_secret() -> String {
    random_alphanumeric(40)
}

fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_verify_only_against_their_own_hash() {
        let hash = hash_secret("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_secret("correct horse", &hash));
        assert!(!verify_secret("correct horsf", &hash));
        assert!(!verify_secret("correct horse", "not a hash"));
    }

    #[test]
    fn made_secrets_are_hashed_light_and_verify_like_any_other() {
        let secret = new_client_secret();
        let light = hash_random_secret(&secret).unwrap();
        assert!(light.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{light}");
        assert!(verify_secret(&secret, &light));
        assert!(!verify_secret(&new_client_secret(), &light));
        // What an administrator chooses keeps argon2's default cost.
        let chosen = hash_secret(&secret).unwrap();
        assert!(
            chosen.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{chosen}"
        );
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(new_client_id().len(), 20);
    }
}
