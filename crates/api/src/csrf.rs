//! CSRF protection for the website's forms: a synchronizer token kept in the session (created
//! on first use, 32 random characters), written into every state-changing form as the hidden
//! field `csrf` and compared in constant time when the form comes back. The session cookie is
//! also SameSite=Lax, so a cross-site POST carries no session at all; the token covers
//! same-site attackers and older browsers.

use tower_sessions::Session;

/// Session key of the token.
const KEY: &str = "csrf";

/// The session's token, created on first use.
pub async fn token(session: &Session) -> String {
    if let Ok(Some(existing)) = session.get::<String>(KEY).await {
        return existing;
    }
    let fresh = crate::keys::random_alphanumeric(32);
    if let Err(error) = session.insert(KEY, &fresh).await {
        tracing::warn!(%error, "could not store a CSRF token");
    }
    fresh
}

/// Whether `submitted` is the session's token.
pub async fn valid(session: &Session, submitted: &str) -> bool {
    match session.get::<String>(KEY).await {
        Ok(Some(expected)) => constant_time_eq(expected.as_bytes(), submitted.as_bytes()),
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn equal_only_when_every_byte_is() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
