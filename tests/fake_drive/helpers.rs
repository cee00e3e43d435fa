//! Small helpers: md5, 256 KiB rounding, the fault generator, opaque ids.

use md5::{Digest, Md5};

/// Upload sessions keep data in multiples of this (as Drive does).
const GRANULARITY: u64 = 256 * 1024;

pub(super) fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn round_down(n: u64) -> u64 {
    n - n % GRANULARITY
}

/// splitmix64: the fault generator's step.
pub(super) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    mix(*state)
}

/// splitmix64's finaliser (a bijection on u64).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform value in [0, 1).
pub(super) fn unit_f64(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A unique, random-looking id: `prefix` and 13 base-36 digits.
pub(super) fn opaque_id(prefix: char, n: u64, salt: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut x = mix(n ^ salt);
    let mut digits = [b'0'; 13];
    for d in digits.iter_mut().rev() {
        *d = DIGITS[(x % 36) as usize];
        x /= 36;
    }
    let mut id = prefix.to_string();
    id.extend(digits.iter().map(|d| char::from(*d)));
    id
}
