//! Feeds arbitrary bytes, under each kind of file name, through detection and decoding to the last
//! row. The first byte chooses the name so one corpus covers every path.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 6] = ["a.csv", "a.xlsx", "a.zip", "a.txt", "a.xls", "noext"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let name = NAMES[selector as usize % NAMES.len()];
    let Ok(parts) = lianrong_lake::file::open_bytes(name, bytes.to_vec()) else { return };
    for part in parts {
        if let Ok(table) = part {
            for row in table.rows {
                if let Ok(row) = row {
                    assert!(row.cells.len() <= lianrong_lake::limits::COLUMNS_MAX);
                }
            }
        }
    }
});
