#![no_main]
//! See `citymesh::fuzz::invite_code` for what is checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| citymesh::fuzz::invite_code(data));
