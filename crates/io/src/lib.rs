//! Custodian's import, export and demo data.
//!
//! [`read`] turns import files into rows for the importer, [`export`] writes the register
//! out in the same columns, and [`demo`] fills an empty register with a sample
//! organisation. Everything goes through the application services, so imported and demo
//! data obey the same rules, and leave the same audit trail, as the API.

pub mod demo;
pub mod evidence;
pub mod export;
pub mod read;
pub mod report;
