//! Generated gRPC services and messages for every package under the workspace's `proto/`.
//!
//! Module paths follow the proto packages: `proto::seedgen::v1::seed_gen_client::SeedGenClient`,
//! `proto::events::v1::Envelope`, and so on. [`FILE_DESCRIPTOR_SET`] feeds gRPC reflection.

#![allow(clippy::all, clippy::pedantic, missing_debug_implementations)]
#![warn(missing_docs)]

/// Encoded `google.protobuf.FileDescriptorSet` of every proto file, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

macro_rules! package {
    ($name:ident, $path:literal) => {
        #[doc = concat!("The `", $path, "` package.")]
        pub mod $name {
            /// Generated code: its docs are the comments of the `.proto` file, which do not
            /// cover every generated item.
            #[allow(missing_docs)]
            pub mod v1 {
                tonic::include_proto!($path);
            }
        }
    };
}

package!(seedgen, "seedgen.v1");
package!(triforce, "triforce.v1");
package!(asynctournament, "asynctournament.v1");
package!(racetime, "racetime.v1");
package!(tournament, "tournament.v1");
package!(leagues, "leagues.v1");
package!(elections, "elections.v1");
package!(verification, "verification.v1");
package!(discord, "discord.v1");
package!(identity, "identity.v1");
package!(events, "events.v1");
package!(diagnostics, "diagnostics.v1");
