//! Compiles `proto/citymesh.proto` with protox (pure Rust), so the build needs no system `protoc`.
//! The generated types also serialise to JSON and back (the API's answers and `--json` output),
//! with byte fields as hex; a field missing from the JSON (an older node's) takes its default.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/citymesh.proto");
    let descriptors = protox::compile(["proto/citymesh.proto"], ["proto"])?;
    let hex = "#[serde(serialize_with = \"crate::wire::serialize_hex\", deserialize_with = \"crate::wire::deserialize_hex\")]";
    let mut config = prost_build::Config::new();
    config.type_attribute(".citymesh.v1", "#[derive(serde::Serialize, serde::Deserialize)] #[serde(default)]");
    for field in [
        "Envelope.header",
        "Envelope.signature",
        "Envelope.body",
        "Header.publisher",
        "Header.body_sha256",
        "Attachment.sha256",
        "Practice.based_on",
        "Partnership.partner",
        "Ref.publisher",
        "Engagement.counterpart",
        "Invite.publisher",
        "Header.signer",
        "KeySignature.key",
        "KeySignature.signature",
        "Identity.previous",
        "Identity.recovery_commitment",
        "Operator.key",
        "Receipt.organisation",
    ] {
        config.field_attribute(format!(".citymesh.v1.{field}"), hex);
    }
    let hex_list = "#[serde(serialize_with = \"crate::wire::serialize_hex_list\", deserialize_with = \"crate::wire::deserialize_hex_list\")]";
    config.field_attribute(".citymesh.v1.Identity.governance", hex_list);
    config.field_attribute(".citymesh.v1.Erasure.ids", hex_list);
    config.compile_fds(descriptors)?;
    Ok(())
}
