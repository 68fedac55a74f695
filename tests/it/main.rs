//! Integration tests: the built `citymesh` binary driven as a user would drive it.

mod harness;

mod api;
mod blobs;
mod browser;
mod cli;
mod crash;
mod domains;
mod fuzz;
mod hostile;
mod identities;
mod hostile_bounds;
mod hostile_sync;
mod learning;
mod nodes;
mod pages;
mod partners;
mod partition;
mod run;
mod spec;
mod tidy;
mod upgrade;
mod versions;
mod web;
mod witnesses;
