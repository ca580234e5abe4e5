//! The path of an HTTP action: a prefix route's subpath percent-encoded segment by segment, and the check
//! that a path cannot climb out of where it was aimed, however its dots are disguised.

/// `segment` with every byte but the unreserved characters and those a path segment may hold literally
/// (RFC 3986 `pchar`) percent-encoded: `%`, `/`, `\`, `?`, `#`, spaces and controls among them.
pub(super) fn encode_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for &byte in segment.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// How many times a path is percent-decoded in the search of a disguised dot segment: a server or proxy
/// that decodes twice or three times is still caught; nothing real is encoded deeper.
const DECODE_ROUNDS: usize = 4;

/// Whether `path`, percent-decoded once and again (up to [`DECODE_ROUNDS`] times), has a `.` or `..`
/// segment between its `/` or `\` separators: such a path could be resolved, by the URL parser or a
/// server, to a place outside the folder it names.
pub(super) fn leaves_its_folder(path: &str) -> bool {
    let mut bytes = path.as_bytes().to_vec();
    for _ in 0..=DECODE_ROUNDS {
        let dotted = bytes
            .split(|&b| b == b'/' || b == b'\\')
            .any(|segment| matches!(segment, b"." | b".."));
        if dotted {
            return true;
        }
        let decoded = percent_decode(&bytes);
        if decoded == bytes {
            return false;
        }
        bytes = decoded;
    }
    // Still changing after so many rounds: nothing honest is, so it is refused.
    true
}

/// `bytes` with each `%XX` replaced by the byte it encodes; any other `%` is kept.
fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            // Two hex digits: at most 0xFF.
            decoded.push((high * 16 + low) as u8);
            i += 3;
            continue;
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_are_found_however_they_are_disguised() {
        for path in [
            "..",
            ".",
            "a/../b",
            ".%2e/admin",
            "%2e./admin",
            "%2E%2E/admin",
            "%2e",
            "..\\..\\api\\admin",
            "a\\..\\b",
            "%252e%252e/admin",
            "%25252e%25252e/admin",
            "%2e%2e%2fadmin",
            "a%2f..%2fb",
            "a%5c..%5cb",
            "/files/.%2E/x",
        ] {
            assert!(leaves_its_folder(path), "{path}");
        }
        for path in [
            "reports/2024.pdf",
            "a..b/c",
            "...",
            ".hidden",
            "50% off.pdf",
            "%zz",
            "",
            "/files/",
        ] {
            assert!(!leaves_its_folder(path), "{path}");
        }
    }

    #[test]
    fn a_segment_is_encoded_so_it_decodes_to_itself() {
        assert_eq!(encode_segment("2024 q1.pdf"), "2024%20q1.pdf");
        assert_eq!(encode_segment("50%"), "50%25");
        assert_eq!(encode_segment("a?b#c\\d"), "a%3Fb%23c%5Cd");
        assert_eq!(encode_segment("é"), "%C3%A9");
        for text in ["2024 q1.pdf", "50% off", "a?b#c\\d", "é\n\t"] {
            assert_eq!(
                percent_decode(encode_segment(text).as_bytes()),
                text.as_bytes()
            );
        }
    }
}
