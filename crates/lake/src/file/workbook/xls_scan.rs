//! A pre-scan of a legacy XLS record stream before calamine parses it. calamine reserves and fills
//! each sheet densely from the sheet's DIMENSIONS record and cell positions, so a tiny hostile file
//! could make it allocate many gigabytes (or overflow). This scan bounds every sheet's bounding box
//! and the sum over the sheets the workbook lists, and spots encrypted Office files.

use std::collections::HashMap;
use std::io::Read;

use crate::error::FileError;
use crate::file::source::Source;
use crate::limits::{XLS_BYTES_MAX, XLS_SHEET_CELLS_MAX};

/// Most cells all sheets together may span (each sheet listed is parsed separately).
const XLS_CELLS_TOTAL_MAX: u64 = 4 * XLS_SHEET_CELLS_MAX;

fn unreadable(detail: &str) -> FileError {
    FileError::new(
        "xls_unreadable",
        format!("The XLS workbook cannot be read ({detail}); open it in Excel or WPS and save it as XLSX."),
        format!("无法读取该 XLS 工作簿（{detail}）；请用 Excel 或 WPS 打开后另存为 XLSX。"),
    )
}

fn too_big() -> FileError {
    FileError::new(
        "xls_too_large",
        "A sheet of this XLS workbook spans too many cells; save it as XLSX.",
        "该 XLS 工作簿的工作表范围过大；请另存为 XLSX。",
    )
}

pub(crate) fn check(source: Source) -> Result<Source, FileError> {
    let mut compound = cfb::CompoundFile::open(source).map_err(|_| unreadable("not a compound document"))?;
    if compound.exists("/EncryptionInfo") || compound.exists("/EncryptedPackage") {
        return Err(encrypted());
    }
    let stream_name = if compound.is_stream("/Workbook") {
        "/Workbook"
    } else if compound.is_stream("/Book") {
        "/Book"
    } else {
        return Err(unreadable("no workbook stream"));
    };
    let mut bytes = Vec::new();
    {
        let stream = compound.open_stream(stream_name).map_err(|_| unreadable("workbook stream"))?;
        stream.take(XLS_BYTES_MAX + 1).read_to_end(&mut bytes).map_err(|_| unreadable("workbook stream"))?;
    }
    if bytes.len() as u64 > XLS_BYTES_MAX {
        return Err(FileError::too_large(XLS_BYTES_MAX));
    }
    scan_records(&bytes)?;
    Ok(compound.into_inner())
}

#[derive(Default, Clone, Copy)]
struct BoundingBox {
    rows: Option<(u64, u64)>,
    cols: Option<(u64, u64)>,
}

impl BoundingBox {
    fn add(&mut self, row: u64, col: u64) {
        let widen = |range: &mut Option<(u64, u64)>, v: u64| {
            *range = Some(match *range {
                Some((lo, hi)) => (lo.min(v), hi.max(v)),
                None => (v, v),
            });
        };
        widen(&mut self.rows, row);
        widen(&mut self.cols, col);
    }

    fn cells(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => (r1 - r0 + 1).saturating_mul(c1 - c0 + 1),
            _ => 0,
        }
    }
}

fn u16_at(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 2).map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
}

fn u32_at(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 4).map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
}

/// Walks the BIFF records: each substream (BOF…EOF) gets a bounding box of its DIMENSIONS record and
/// cell records; BOUNDSHEET records name the substreams calamine will parse.
fn scan_records(bytes: &[u8]) -> Result<(), FileError> {
    let mut pos = 0usize;
    let mut depth = 0u32;
    let mut current: Option<(usize, BoundingBox)> = None;
    let mut boxes: HashMap<usize, u64> = HashMap::new();
    let mut listed: Vec<usize> = Vec::new();
    while pos + 4 <= bytes.len() {
        let typ = u16_at(bytes, pos).unwrap_or(0);
        let len = u16_at(bytes, pos + 2).unwrap_or(0) as usize;
        let start = pos;
        let data = bytes.get(pos + 4..pos + 4 + len).unwrap_or(&[]);
        pos += 4 + len;
        match typ {
            0x0809 => {
                if depth == 0 {
                    current = Some((start, BoundingBox::default()));
                }
                depth += 1;
            }
            0x000A => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some((at, bbox)) = current.take()
                {
                    boxes.insert(at, bbox.cells());
                }
            }
            0x0085 => listed.push(u32_at(data, 0).unwrap_or(u64::MAX) as usize),
            0x0200 => {
                if let Some((_, bbox)) = &mut current {
                    dimensions(data, bbox)?;
                }
            }
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 | 0x0207 | 0x0201 => {
                if let (Some((_, bbox)), Some(row), Some(col)) = (&mut current, u16_at(data, 0), u16_at(data, 2)) {
                    bbox.add(row, col);
                }
            }
            0x00BD | 0x00BE => {
                // MULRK / MULBLANK: row, first column, …, last column in the final two bytes.
                if let (Some((_, bbox)), Some(row), Some(first)) = (&mut current, u16_at(data, 0), u16_at(data, 2)) {
                    let last = data.len().checked_sub(2).and_then(|at| u16_at(data, at)).unwrap_or(first);
                    bbox.add(row, first);
                    bbox.add(row, last.max(first));
                }
            }
            _ => {}
        }
        if current.as_ref().is_some_and(|(_, b)| b.cells() > XLS_SHEET_CELLS_MAX) {
            return Err(too_big());
        }
    }
    if let Some((at, bbox)) = current.take() {
        boxes.insert(at, bbox.cells());
    }
    let mut total: u64 = 0;
    for at in listed {
        let Some(&cells) = boxes.get(&at) else {
            return Err(unreadable("a sheet points outside the record stream"));
        };
        total = total.saturating_add(cells);
    }
    if total > XLS_CELLS_TOTAL_MAX {
        return Err(too_big());
    }
    Ok(())
}

/// DIMENSIONS as calamine reads it: BIFF8 (14 or 16 bytes) has 32-bit rows, BIFF5 (10 bytes) 16-bit.
fn dimensions(data: &[u8], bbox: &mut BoundingBox) -> Result<(), FileError> {
    let (first_row, last_row_excl, first_col, last_col_excl) = match data.len() {
        10 => (u16_at(data, 0), u16_at(data, 2), u16_at(data, 4), u16_at(data, 6)),
        14 | 16 => (u32_at(data, 0), u32_at(data, 4), u16_at(data, 8), u16_at(data, 10)),
        _ => return Err(unreadable("malformed dimensions")),
    };
    let (Some(r0), Some(r1), Some(c0), Some(c1)) = (first_row, last_row_excl, first_col, last_col_excl) else {
        return Err(unreadable("malformed dimensions"));
    };
    if r1 == 0 || c1 == 0 {
        return Ok(());
    }
    if r0 > r1 - 1 {
        return Err(unreadable("malformed dimensions"));
    }
    let c0 = if c0 > 0xFF || c1 < c0 { 0 } else { c0 };
    bbox.add(r0, c0);
    bbox.add(r1 - 1, (c1 - 1).max(c0));
    Ok(())
}

/// A password-protected workbook: calamine cannot read it, and the sender can send it without.
pub(crate) fn encrypted() -> FileError {
    FileError::new(
        "file_encrypted",
        "The workbook is password-protected; send it without a password.",
        "该工作簿设有密码；请提交未加密的文件。",
    )
}
