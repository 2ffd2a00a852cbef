//! The byte source a file is decoded from, and how deep inside a ZIP it sits.

use std::io::{Read, Seek};

pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}
pub(crate) type Source = Box<dyn ReadSeek>;

/// Whether a file came inside a ZIP: archives inside archives are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    TopLevel,
    InZip,
}
