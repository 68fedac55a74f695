#![no_main]
//! See `citymesh::fuzz::Api::check` for what is checked. One node serves the whole run.

libfuzzer_sys::fuzz_target!(|data: &[u8]| citymesh::fuzz::Api::shared().check(data));
