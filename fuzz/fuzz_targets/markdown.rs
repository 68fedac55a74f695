#![no_main]
//! See `citymesh::fuzz::markdown` for what is checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| citymesh::fuzz::markdown(data));
