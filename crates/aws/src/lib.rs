pub mod calls;
pub mod clients;
pub mod deployment;
pub mod env;
pub mod schema;
pub mod system;
pub mod user;

mod attrs;
mod errors;
