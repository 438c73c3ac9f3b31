//! Generated gRPC services and messages for every package under the workspace's `proto/`.
//!
//! Module paths follow the proto packages: `proto::seedgen::v1::seed_gen_client::SeedGenClient`,
//! `proto::events::v1::Envelope`, and so on. [`FILE_DESCRIPTOR_SET`] feeds gRPC reflection.

#![allow(clippy::all, clippy::pedantic, missing_debug_implementations)]

/// Encoded `google.protobuf.FileDescriptorSet` of every proto file, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

macro_rules! package {
    ($name:ident, $path:literal) => {
        pub mod $name {
            pub mod v1 {
                tonic::include_proto!($path);
            }
        }
    };
}

package!(seedgen, "seedgen.v1");
package!(racetime, "racetime.v1");
package!(tournament, "tournament.v1");
package!(discord, "discord.v1");
package!(identity, "identity.v1");
package!(events, "events.v1");
package!(diagnostics, "diagnostics.v1");
