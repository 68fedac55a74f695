#![no_main]
//! See `citymesh::fuzz::envelope` for what is checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| citymesh::fuzz::envelope(data));
