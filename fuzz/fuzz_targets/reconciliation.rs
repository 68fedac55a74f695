#![no_main]
//! See `citymesh::fuzz::reconciliation` for what is checked.

libfuzzer_sys::fuzz_target!(|data: &[u8]| citymesh::fuzz::reconciliation(data));
