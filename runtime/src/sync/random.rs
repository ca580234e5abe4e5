//! Randomness without a random-number crate: the std hasher's per-process random keys, for session ids and
//! backoff jitter (neither needs cryptographic strength; session ids only need to be unique).

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

fn next() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    RandomState::new().hash_one((n, nanos))
}

/// A number in `[0, 1)`.
pub(crate) fn unit() -> f64 {
    (next() >> 11) as f64 / (1u64 << 53) as f64
}

/// A WebSocket frame's masking key: unpredictable to a proxy on the way, as RFC 6455 asks.
pub(crate) fn mask() -> [u8; 4] {
    let [a, b, c, d, ..] = next().to_le_bytes();
    [a, b, c, d]
}

/// A random (version 4) UUID, hyphenated, as the protocol's `sessionId` must be.
pub(crate) fn uuid_v4() -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next().to_le_bytes());
    bytes[8..].copy_from_slice(&next().to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_are_v4_and_distinct() {
        let a = super::uuid_v4();
        let b = super::uuid_v4();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert!((0.0..1.0).contains(&super::unit()));
    }
}
