//! Files served as downloads, the same from the API and the console: the data standard's CSV and XLSX
//! templates with Chinese column headers and English aliases, and the registries' export files.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lianrong_app::AppError;
use lianrong_app::registration::Exported;
use lianrong_domain::trade::{Presence, RecordType};

fn header_row(rt: RecordType) -> Vec<String> {
    rt.fields().map(|(f, _)| format!("{}/{}", f.label_zh(), f.code())).collect()
}

/// A CSV template: UTF-8 with a BOM so that Excel opens the Chinese headers correctly.
fn csv_template(rt: RecordType) -> Vec<u8> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    out.extend_from_slice(header_row(rt).join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// An XLSX template: the header row on the first sheet (named after the record type, which the upload
/// also recognises) and a second sheet explaining each field.
fn xlsx_template(rt: RecordType) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = wb.add_worksheet();
    sheet.set_name(rt.label_zh().replace('/', "-"))?;
    for (i, h) in header_row(rt).iter().enumerate() {
        let col = i as u16;
        sheet.write_string_with_format(0, col, h, &bold)?;
        sheet.set_column_width(col, 22)?;
        // Text format keeps long codes (credit codes, invoice numbers, accounts) from becoming 9.1E+17.
        sheet.set_column_format(col, &text)?;
    }
    let help = wb.add_worksheet();
    help.set_name("说明 Notes")?;
    for (c, h) in ["字段 field", "中文名", "English", "必填 required", "格式", "Format"].iter().enumerate() {
        help.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, (f, p)) in rt.fields().enumerate() {
        let row = r as u32 + 1;
        help.write_string(row, 0, f.code())?;
        help.write_string(row, 1, f.label_zh())?;
        help.write_string(row, 2, f.label_en())?;
        help.write_string(row, 3, if p == Presence::Required { "是 yes" } else { "否 no" })?;
        help.write_string(row, 4, f.format_hint().1)?;
        help.write_string(row, 5, f.format_hint().0)?;
    }
    wb.save_to_buffer()
}

/// A template file ready to download: its bytes, media type and `Content-Disposition`.
pub struct TemplateFile {
    pub bytes: Vec<u8>,
    pub media_type: &'static str,
    pub disposition: String,
}

/// The template named `invoice.csv`, `order.xlsx` …; any other name is not found. The API and the
/// console serve the same files.
pub fn template_file(name: &str) -> Result<TemplateFile, AppError> {
    let not_found = || AppError::not_found("Template", "模板");
    let (stem, ext) = name.rsplit_once('.').ok_or_else(not_found)?;
    let rt = RecordType::parse(stem).map_err(|_| not_found())?;
    let (bytes, media_type) = match ext {
        "csv" => (csv_template(rt), "text/csv; charset=utf-8"),
        "xlsx" => (
            xlsx_template(rt).map_err(|e| {
                tracing::error!(error = %e, "cannot build an XLSX template");
                AppError::internal()
            })?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(not_found()),
    };
    Ok(TemplateFile { bytes, media_type, disposition: format!("attachment; filename=\"{}.{ext}\"", rt.code()) })
}

impl IntoResponse for TemplateFile {
    fn into_response(self) -> Response {
        let headers =
            [(header::CONTENT_TYPE, self.media_type.to_string()), (header::CONTENT_DISPOSITION, self.disposition)];
        (StatusCode::OK, headers, self.bytes).into_response()
    }
}

/// An exported file (a registry's upload file) as a download.
pub fn exported(e: Exported) -> Response {
    let headers = [
        (header::CONTENT_TYPE, e.content_type.to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", e.file_name)),
    ];
    (StatusCode::OK, headers, e.bytes).into_response()
}
