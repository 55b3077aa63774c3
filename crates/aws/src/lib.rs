pub mod calls;
pub mod clients;
pub mod deployment;
pub mod env;
pub mod schema;
pub mod system;

mod attrs;
mod errors;
